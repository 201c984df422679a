/**
 * Job ids made when the caller gives none: short, unguessable, and plain
 * enough for a command line and a URL.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { getQueue } from "rapidai/background";
import { newJobId } from "../../src/job-id.js";
import { identity } from "../fixtures/core-tasks.js";
import { adoptQueue, closeQueues } from "./helpers.js";

const queue = adoptQueue(getQueue("memory", { threads: 1 }));
after(() => closeQueues());

const ID = /^[0-9A-Za-z]{21}$/;

describe("default job ids", () => {
  it("are 21 letters and digits, and 100,000 of them are all different", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = newJobId();
      assert.match(id, ID);
      seen.add(id);
    }
    assert.equal(seen.size, 100_000);
  });

  it("use every character about equally often (no bias toward the first ones)", () => {
    const counts = new Map<string, number>();
    const ids = 20_000;
    for (let i = 0; i < ids; i++)
      for (const c of newJobId()) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 62);
    // 420,000 characters over 62: about 6,774 each, standard deviation about 82.
    // A byte taken modulo 62 without skipping 248-255 would give the first
    // eight characters a quarter more (about 8,400): far outside this band.
    const expected = (ids * 21) / 62;
    for (const [c, n] of counts) {
      assert.ok(Math.abs(n - expected) < 6 * 82, `${c} came ${n} times, ${expected} expected`);
    }
  });

  it("are what enqueue without a job id returns, and the job is found under it", async () => {
    const jobId = await identity.enqueue(7);
    assert.match(jobId, ID);
    assert.equal((await queue.waitFor(jobId, { timeoutMs: 20_000 })).result, 7);
  });
});
