import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { holdUntilFile } from "../fixtures/core-tasks.js";
import { closeQueues, nextEvent, openQueue, runToEnd, waitAll } from "./helpers.js";

after(() => closeQueues());

describe("short jobs sent to a thread in one batch", () => {
  it("are each done as soon as they end, not when the last job of their batch does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidai-batch-"));
    const open = join(dir, "open");
    const release = join(dir, "release");
    try {
      writeFileSync(open, "");
      const queue = openQueue({ threads: 1 });
      // One at a time, so that each takes only its trip to the thread: the
      // task is then known to be short, and its jobs are batched.
      for (let n = 0; n < 100; n++) await runToEnd(queue, holdUntilFile, open, n);
      // Three in one turn on one thread: one batch, whose last job holds the
      // thread until the test lets it go.
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const ids = [a, b, c];
      const firstDone = nextEvent(queue, "completed", (e) => e.jobId === a);
      await queue.enqueueMany([
        { jobId: a, task: holdUntilFile, args: [open, 0] },
        { jobId: b, task: holdUntilFile, args: [open, 1] },
        { jobId: c, task: holdUntilFile, args: [release, 2] },
      ]);
      const first = await firstDone;
      assert.equal(first.result, 0);
      const last = await queue.getResult(c);
      assert.equal(last?.status, "running", "the batch's last job was still held");
      writeFileSync(release, "");
      const results = await waitAll(queue, ids);
      assert.deepEqual(
        results.map((r) => r.result),
        [0, 1, 2],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
