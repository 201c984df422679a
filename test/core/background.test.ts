import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { isMainThread, threadId } from "node:worker_threads";
import { background, currentJob, getQueue, JobResult } from "rapidai/background";
import { identity, sleep, whereAmI } from "../fixtures/core-tasks.js";
import { echo } from "../fixtures/tasks.js";
import { adoptQueue, closeQueues, nextEvent, recordEvents } from "./helpers.js";

// Tasks without a `queue` option use the process-wide default queue.
const queue = adoptQueue(getQueue("memory", { threads: 1 }));
after(() => closeQueues());

describe("background()", () => {
  it("makes a callable task with enqueue, enqueueWith, withOptions, getResult, cancel and waitFor in both call forms", () => {
    for (const task of [whereAmI, echo]) {
      assert.equal(typeof task, "function");
      for (const method of [
        "enqueue",
        "enqueueWith",
        "withOptions",
        "getResult",
        "cancel",
        "waitFor",
      ]) {
        assert.equal(
          typeof (task as unknown as Record<string, unknown>)[method],
          "function",
          method,
        );
      }
    }
    assert.equal(whereAmI.taskName, "whereAmI");
    assert.equal(echo.taskName, "echo");
  });

  it("takes its name from the `name` option over the function's own name", () => {
    const named = background({ name: "renamedTask" })(function originalName() {
      return 1;
    });
    assert.equal(named.taskName, "renamedTask");
    assert.equal(named.name, "renamedTask");
  });

  it("runs the function in-process, on the calling thread, when the task is called directly", async () => {
    const r = await whereAmI("direct");
    assert.equal(r.isMainThread, isMainThread);
    assert.equal(r.isMainThread, true);
    assert.equal(r.threadId, threadId);
    assert.equal(r.tag, "direct");
  });

  it("gives a direct call a currentJob() context with an id, attempt 1 and a signal that never aborts", async () => {
    const r = await whereAmI();
    assert.match(r.jobId, /^direct:/);
    assert.equal(r.attempt, 1);
    assert.equal(r.task, "whereAmI");
    const seen = background({ name: "directContextProbe" })(function directContextProbe() {
      const job = currentJob();
      job.progress(0.5);
      job.throwIfCancelled();
      return job.signal.aborted;
    });
    assert.equal(seen(), false);
  });

  it("returns a synchronous function's value synchronously when called directly", () => {
    assert.equal(identity(41), 41);
    assert.deepEqual(echo({ a: 1 }), { a: 1 });
  });

  it("enqueues on the default queue and reads the job back through the task", async () => {
    const id = await echo.enqueue("hello");
    assert.equal(typeof id, "string");
    const done = await echo.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(done.status, "completed");
    assert.equal(done.result, "hello");
    const read = await echo.getResult(id);
    assert.ok(read instanceof JobResult);
    assert.equal(read.jobId, id);
    assert.equal(read.result, "hello");
    assert.equal(read.task, "echo");
    assert.equal(await queue.getResult(id).then((r) => r?.result), "hello");
  });

  it("returns undefined from getResult and false from cancel for an id it never saw", async () => {
    assert.equal(await echo.getResult("never-enqueued"), undefined);
    assert.equal(await echo.cancel("never-enqueued"), false);
  });

  it("treats an own job id as an idempotency key: the same id returns the same job and stores nothing new", async () => {
    const jobId = `own-${randomUUID()}`;
    const before = await queue.countJobs();
    const first = await identity.enqueueWith({ jobId }, "first");
    const second = await identity.enqueueWith({ jobId }, "second");
    const third = await identity.withOptions({ jobId }).enqueue("third");
    assert.equal(first, jobId);
    assert.equal(second, jobId);
    assert.equal(third, jobId);
    const done = await identity.waitFor(jobId, { timeoutMs: 20_000 });
    assert.equal(done.result, "first");
    const after = await queue.countJobs();
    const total = (c: typeof after) => Object.values(c).reduce((a, b) => a + b, 0);
    assert.equal(total(after) - total(before), 1);
    assert.equal((await queue.listJobs()).filter((j) => j.jobId === jobId).length, 1);
  });

  it("holds a job with delayMs pending until the delay has passed", async () => {
    const jobId = `delayed-${randomUUID()}`;
    const startedAt = nextEvent(queue, "started", (e) => e.jobId === jobId).then(() => Date.now());
    const enqueuedAt = Date.now();
    await identity.withOptions({ jobId, delayMs: 150 }).enqueue("later");
    assert.equal((await identity.getResult(jobId))?.status, "pending");
    const ran = await startedAt;
    // Timers never fire early; allow for clock granularity.
    assert.ok(ran - enqueuedAt >= 140, `started after ${ran - enqueuedAt} ms`);
    assert.equal((await identity.waitFor(jobId, { timeoutMs: 20_000 })).result, "later");
  });

  it("starts higher-priority ready jobs first, and equal priorities in enqueue order", async () => {
    const events = recordEvents(queue);
    const blocker = randomUUID();
    const blockerStarted = nextEvent(queue, "started", (e) => e.jobId === blocker);
    await sleep.enqueueWith({ jobId: blocker }, 150);
    await blockerStarted;
    // The only thread is busy: these wait in the ready queue.
    const low1 = await identity.enqueueWith({ priority: -1 }, "low1");
    const mid1 = await identity.enqueue("mid1");
    const high = await identity.enqueueWith({ priority: 5 }, "high");
    const mid2 = await identity.enqueueWith({ priority: 0 }, "mid2");
    const low2 = await identity.withOptions({ priority: -1 }).enqueue("low2");
    await Promise.all(
      [low1, mid1, high, mid2, low2].map((id) => identity.waitFor(id, { timeoutMs: 20_000 })),
    );
    const order = events.started.map((e) => e.jobId).filter((id) => id !== blocker);
    assert.deepEqual(order, [high, mid1, mid2, low1, low2]);
  });

  it("cancels a job through the task", async () => {
    const id = await identity.enqueueWith({ delayMs: 10_000 }, "never");
    assert.equal(await identity.cancel(id), true);
    assert.equal((await identity.getResult(id))?.status, "cancelled");
  });
});
