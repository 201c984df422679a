import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import "../fixtures/core-tasks.js";
import {
  identity,
  sleep,
  sleepStubbornly,
  spinCooperatively,
  spinStubbornly,
  stubbornPastTimeout,
  tally,
} from "../fixtures/core-tasks.js";
import {
  closeQueues,
  enqueue,
  nextEvent,
  openQueue,
  recordEvents,
  runToEnd,
  startBody,
  threadOf,
  waitAll,
  withShortTally,
} from "./helpers.js";

after(() => closeQueues());

describe("cancellation", () => {
  it("removes a delayed pending job, which never runs", async () => {
    const queue = openQueue();
    const events = recordEvents(queue);
    const id = randomUUID();
    await queue.enqueue(id, identity, ["never"], { delayMs: 100 });
    assert.equal(await queue.cancel(id), true);
    const r = await queue.getResult(id);
    assert.equal(r?.status, "cancelled");
    assert.equal(r?.attempts, 0);
    assert.ok(r?.completedAt instanceof Date);
    // A job enqueued after it with the same delay runs after its due time:
    // once that one completed, the cancelled job would have started first.
    const later = await queue.enqueue(randomUUID(), identity, ["later"], { delayMs: 100 });
    assert.equal((await queue.waitFor(later, { timeoutMs: 20_000 })).status, "completed");
    assert.equal(events.started.filter((e) => e.jobId === id).length, 0);
    assert.equal((await queue.getResult(id))?.status, "cancelled");
    assert.deepEqual(
      events.cancelled.filter((e) => e.jobId === id),
      [{ jobId: id, task: "identity", attempts: 0 }],
    );
  });

  it("removes a job queued behind busy threads, which never runs while later jobs do", async () => {
    const queue = openQueue({ threads: 1 });
    const events = recordEvents(queue);
    const busy = await startBody(queue, sleep, 200);
    const queued = await enqueue(queue, identity, "queued");
    const after = await enqueue(queue, identity, "after");
    assert.equal((await queue.getResult(queued))?.status, "pending");
    assert.equal(await queue.cancel(queued), true);
    const [b, q, a] = await waitAll(queue, [busy, queued, after]);
    assert.equal(b?.status, "completed");
    assert.equal(q?.status, "cancelled");
    assert.equal(q?.attempts, 0);
    assert.equal(a?.status, "completed");
    assert.deepEqual(
      events.started.map((e) => e.jobId).filter((id) => id !== busy),
      [after],
    );
  });

  it("ends a short job already sent to a thread, still waiting there, as cancelled without running it", async () => {
    await withShortTally(async (queue, file, runs) => {
      // The first job holds the thread for 400 ms; the others, sent in the
      // same turn (one enqueueMany), wait behind it in the thread while the
      // task is known to be short. Whether it is known short depends on the
      // times measured so far (a slow moment on a loaded machine can hide
      // it), so the round is repeated until the victim was started while the
      // first job still held the thread: then it is waiting in the thread.
      for (let round = 0; ; round++) {
        assert.ok(round < 10, "the victim was never sent behind the busy job");
        const ids = Array.from({ length: 20 }, () => randomUUID());
        const victim = ids[10]!;
        let firstDone = false;
        const first = nextEvent(queue, "completed", (e) => e.jobId === ids[0]).then(() => {
          firstDone = true;
        });
        const started = nextEvent(queue, "started", (e) => e.jobId === victim);
        await queue.enqueueMany(
          ids.map((jobId, n) => ({
            jobId,
            task: tally,
            args: [file, n + round * 100, false, n === 0 ? 400 : 0],
          })),
        );
        await started;
        if (firstDone) {
          // The busy job's 400 ms now weigh on the task's average: make it
          // short again before the next round.
          await waitAll(queue, ids);
          const warm = await queue.enqueueMany(
            Array.from({ length: 60 }, () => ({
              jobId: randomUUID(),
              task: tally,
              args: [file, -1, false],
            })),
          );
          await waitAll(queue, warm);
          continue;
        }
        assert.equal((await queue.getResult(victim))?.status, "running", "sent to the thread");
        assert.equal(await queue.cancel(victim), true);
        const results = await waitAll(queue, ids);
        await first;
        results.forEach((r, n) => {
          assert.equal(r.status, n === 10 ? "cancelled" : "completed", `job ${n}: ${r.error}`);
        });
        assert.ok(!runs().includes(10 + round * 100), "the cancelled job never ran");
        assert.ok(runs().includes(11 + round * 100), "the job after it ran");
        return;
      }
    });
  });

  it("aborts a running cooperative job's signal, which stops it without losing its thread", async () => {
    // A long grace period: only a cooperative stop can end the job quickly
    // and leave the thread alive.
    const queue = openQueue({ threads: 1, cancelGraceMs: 20_000 });
    const events = recordEvents(queue);
    const thread = await threadOf(queue);
    const id = await startBody(queue, sleep, 60_000);
    assert.equal((await queue.getResult(id))?.status, "running");
    assert.equal(await queue.cancel(id), true);
    const r = await queue.getResult(id);
    assert.equal(r?.status, "cancelled");
    assert.equal(r?.attempts, 1);
    assert.deepEqual(
      events.progress.filter((e) => e.jobId === id).map((e) => e.progress),
      ["body started", "aborted: ERR_JOB_CANCELLED"],
      "the job saw its signal abort, with a cancel reason",
    );
    assert.equal(await threadOf(queue), thread, "the thread was not replaced");
  });

  it("makes throwIfCancelled() throw inside a CPU loop that never yields", async () => {
    const queue = openQueue({ threads: 1, cancelGraceMs: 20_000 });
    const thread = await threadOf(queue);
    const id = await startBody(queue, spinCooperatively, 60_000);
    assert.equal(await queue.cancel(id), true);
    assert.equal((await queue.getResult(id))?.status, "cancelled");
    assert.equal(await threadOf(queue), thread, "the thread was not replaced");
  });

  it("terminates the thread of a job that ignores cancellation after the grace period, and the pool replaces it", async () => {
    const queue = openQueue({ threads: 1, cancelGraceMs: 150 });
    const events = recordEvents(queue);
    const first = await threadOf(queue);
    const spinning = await startBody(queue, spinStubbornly, 60_000);
    assert.equal(await queue.cancel(spinning), true);
    assert.equal((await queue.getResult(spinning))?.status, "cancelled");
    const second = await threadOf(queue);
    assert.notEqual(second, first, "a new thread runs later jobs");

    const sleeping = await startBody(queue, sleepStubbornly, 60_000);
    assert.equal(await queue.cancel(sleeping), true);
    assert.equal((await queue.getResult(sleeping))?.status, "cancelled");
    const third = await threadOf(queue);
    assert.notEqual(third, second);
    const later = await runToEnd(queue, identity, "still works");
    assert.equal(later.status, "completed");
    assert.equal(later.result, "still works");
    assert.equal(events.cancelled.length, 2);
    assert.equal(events.failed.length, 0);
  });

  it("ends a job cancelled while it is being stopped after a timeout as cancelled, with no retry", async () => {
    const queue = openQueue({ threads: 1, cancelGraceMs: 400 });
    await threadOf(queue);
    const events = recordEvents(queue);
    const timedOut = nextEvent(queue, "progress", (e) => e.progress === "aborted: ERR_JOB_TIMEOUT");
    const id = await startBody(queue, stubbornPastTimeout);
    // Its 50 ms timeout fired (the job saw its signal abort and ignores it);
    // its thread is terminated only after the grace period.
    assert.equal((await timedOut).jobId, id);
    assert.equal((await queue.getResult(id))?.status, "running");
    assert.equal(await queue.cancel(id), true);
    // cancel() resolved once the job ended: a retry would have left it pending or running.
    const r = await queue.getResult(id);
    assert.equal(r?.status, "cancelled");
    assert.equal(r?.attempts, 1);
    assert.equal(events.started.filter((e) => e.jobId === id).length, 1, "no retry started");
    assert.equal(events.retrying.length, 0);
  });

  it("returns false for an unknown job and for a job that already finished", async () => {
    const queue = openQueue();
    assert.equal(await queue.cancel("no-such-job"), false);
    const done = await runToEnd(queue, identity, 1);
    assert.equal(await queue.cancel(done.jobId), false);
    assert.equal((await queue.getResult(done.jobId))?.status, "completed");
    const failed = await runToEnd(queue, "alwaysFail", "x");
    assert.equal(await queue.cancel(failed.jobId), false);
    assert.equal((await queue.getResult(failed.jobId))?.status, "failed");
    const id = await queue.enqueue(randomUUID(), identity, [1], { delayMs: 60_000 });
    assert.equal(await queue.cancel(id), true);
    assert.equal(await queue.cancel(id), false, "a second cancel finds it finished");
  });

  it("cancels a mix of pending, cooperative and spinning jobs, leaving the pool to run new work", async () => {
    const queue = openQueue({ threads: 2, cancelGraceMs: 150 });
    const ids = [
      await startBody(queue, spinStubbornly, 60_000),
      await startBody(queue, spinCooperatively, 60_000),
      await enqueue(queue, sleep, 60_000),
      await enqueue(queue, identity, "pending"),
      await queue.enqueue(randomUUID(), identity, ["delayed"], { delayMs: 60_000 }),
    ];
    const answers = await Promise.all(ids.map((id) => queue.cancel(id)));
    assert.deepEqual(answers, [true, true, true, true, true]);
    const results = await waitAll(queue, ids);
    assert.deepEqual(
      results.map((r) => r.status),
      ["cancelled", "cancelled", "cancelled", "cancelled", "cancelled"],
    );
    const healthy = await waitAll(queue, [
      await enqueue(queue, identity, 1),
      await enqueue(queue, identity, 2),
      await enqueue(queue, identity, 3),
    ]);
    assert.deepEqual(
      healthy.map((r) => r.result),
      [1, 2, 3],
    );
    assert.deepEqual(await queue.countJobs(), {
      pending: 0,
      running: 0,
      completed: 3,
      failed: 0,
      cancelled: 5,
    });
  });
});
