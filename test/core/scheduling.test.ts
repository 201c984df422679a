import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { DelayHeap } from "../../src/memory/delay-heap.js";
import { TimerQueue } from "../../src/timer-queue.js";
import { identity } from "../fixtures/core-tasks.js";
import { closeQueues, openQueue, recordEvents } from "./helpers.js";

after(() => closeQueues());

describe("scheduling of delayed jobs", () => {
  it("pops a delay heap's items earliest first, equal times included", () => {
    const heap = new DelayHeap<string>();
    const times = [50, 10, 30, 10, 90, 0, 70, 30, 20, 60];
    for (const [i, t] of times.entries()) heap.push(`${t}:${i}`, t);
    const popped: number[] = [];
    while (heap.size > 0) {
      const next = heap.nextAt;
      const item = heap.pop()!;
      assert.equal(Number(item.split(":")[0]), next);
      popped.push(next);
    }
    assert.deepEqual(
      popped,
      [...times].sort((a, b) => a - b),
    );
    assert.equal(heap.nextAt, Number.POSITIVE_INFINITY);
    assert.equal(heap.pop(), undefined);
  });

  it("fires timer-queue entries in time order, never a removed one", async () => {
    const timers = new TimerQueue();
    const fired: number[] = [];
    const at = Date.now();
    for (const d of [40, 5, 25, 15]) timers.add(at + d, () => fired.push(d));
    const removed = timers.add(at + 10, () => fired.push(10));
    timers.remove(removed);
    timers.remove(removed);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(fired, [5, 15, 25, 40]);
    assert.equal(timers.size, 0);
  });

  it("starts delayed jobs in the order of their delays, not of their enqueueing, and never a cancelled one", async () => {
    const queue = openQueue({ threads: 1 });
    const events = recordEvents(queue);
    const delays = [120, 20, 80, 60, 100, 40];
    const ids = new Map<string, number>();
    for (const delayMs of delays) ids.set(randomUUID(), delayMs);
    // One enqueueMany: every job is created at the same moment, so only the
    // delays order them (a first enqueue also starts the pool, which takes time).
    await queue.enqueueMany(
      [...ids].map(([jobId, delayMs]) => ({
        jobId,
        task: identity,
        args: [delayMs],
        options: { delayMs },
      })),
    );
    const cancelledId = [...ids].find(([, d]) => d === 60)![0];
    assert.equal(await queue.cancel(cancelledId), true);
    for (const jobId of ids.keys()) await queue.waitFor(jobId, { timeoutMs: 10_000 });
    const started = events.started.map((e) => ids.get(e.jobId));
    assert.deepEqual(started, [20, 40, 80, 100, 120]);
    assert.equal((await queue.getResult(cancelledId))?.status, "cancelled");
  });
});
