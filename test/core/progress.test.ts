import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { reportProgress } from "../fixtures/core-tasks.js";
import { closeQueues, enqueue, openQueue, recordEvents, waitAll } from "./helpers.js";

after(() => closeQueues());

describe("progress", () => {
  it("delivers currentJob().progress(value) to the queue's progress event, in order", async () => {
    const queue = openQueue({ threads: 1 });
    const events = recordEvents(queue);
    const id = await enqueue(queue, reportProgress, [0.25, 0.5, 0.75], 10);
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "completed");
    assert.deepEqual(events.progress, [
      { jobId: id, task: "reportProgress", progress: 0.25 },
      { jobId: id, task: "reportProgress", progress: 0.5 },
      { jobId: id, task: "reportProgress", progress: 0.75 },
    ]);
    assert.equal(r.progress, 0.75, "the snapshot keeps the last value");
  });

  it("carries any cloneable value as progress", async () => {
    const queue = openQueue({ threads: 1 });
    const events = recordEvents(queue);
    const value = { step: "parse", done: 3n, at: new Date(0), seen: new Set(["a"]) };
    const id = await enqueue(queue, reportProgress, [value], 5);
    await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.deepEqual(events.progress[0]?.progress, value);
  });

  it("delivers progress reported just before the job returns, before the job completes", async () => {
    // Progress travels on the thread's own channel and the result on the
    // pool's: progress sent before returning must still arrive, and first.
    const queue = openQueue({ threads: 2 });
    const order: string[] = [];
    queue.on("progress", (e) => order.push(`${e.jobId} progress ${String(e.progress)}`));
    queue.on("completed", (e) => order.push(`${e.jobId} completed`));
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await enqueue(queue, reportProgress, [1, 2, 3]));
    const results = await waitAll(queue, ids);
    for (const r of results) assert.equal(r.progress, 3, `job ${r.jobId} kept its last progress`);
    for (const id of ids) {
      assert.deepEqual(
        order.filter((line) => line.startsWith(id)),
        [`${id} progress 1`, `${id} progress 2`, `${id} progress 3`, `${id} completed`],
      );
    }
  });
});
