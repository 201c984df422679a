import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { ErrorCode } from "rapidai/background";
import { identity, sleep } from "../fixtures/core-tasks.js";
import { caught, closeQueues, enqueue, openQueue } from "./helpers.js";

after(() => closeQueues());

describe("waiting for jobs", () => {
  const queue = openQueue({ threads: 2 });

  it("resolves waitFor with the finished job, at once for a job already done", async () => {
    const id = await enqueue(queue, identity, "x");
    const r = await queue.waitFor(id);
    assert.equal(r.status, "completed");
    assert.equal((await queue.waitFor(id)).result, "x");
  });

  it("resolves waitFor for a cancelled job", async () => {
    const id = randomUUID();
    await queue.enqueue(id, identity, [1], { delayMs: 60_000 });
    const waiting = queue.waitFor(id);
    await queue.cancel(id);
    assert.equal((await waiting).status, "cancelled");
  });

  it("rejects waitFor after its own timeoutMs with ERR_JOB_TIMEOUT, leaving the job running", async () => {
    const id = await enqueue(queue, sleep, 300);
    const error = await caught(() => queue.waitFor(id, { timeoutMs: 20 }));
    assert.equal(error.code, ErrorCode.TIMEOUT);
    assert.equal((await queue.waitFor(id)).status, "completed");
  });

  it("stops waiting when its signal aborts, with the signal's reason", async () => {
    const id = await enqueue(queue, sleep, 300);
    const controller = new AbortController();
    const waiting = queue.waitFor(id, { signal: controller.signal });
    controller.abort(new Error("gave up"));
    assert.equal((await caught(() => waiting)).message, "gave up");
    const aborted = AbortSignal.abort(new Error("already"));
    assert.equal((await caught(() => queue.waitFor(id, { signal: aborted }))).message, "already");
    assert.equal((await queue.waitFor(id)).status, "completed");
  });

  it("resolves onIdle once nothing is pending or running", async () => {
    const ids = [await enqueue(queue, sleep, 50), await enqueue(queue, identity, 1)];
    const later = randomUUID();
    await queue.enqueue(later, identity, [2], { delayMs: 80 });
    await queue.onIdle();
    const results = await Promise.all([...ids, later].map((id) => queue.getResult(id)));
    assert.deepEqual(
      results.map((r) => r?.status),
      ["completed", "completed", "completed"],
    );
    const counts = await queue.countJobs();
    assert.equal(counts.pending + counts.running, 0);
    await queue.onIdle();
  });
});
