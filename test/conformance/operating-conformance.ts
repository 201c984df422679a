/**
 * Operating jobs (DESIGN.md section 6), the same on every store: retry,
 * promote, pause/resume, remove, clean, logs, UnrecoverableError and the
 * per-job timeout and dedupe of `enqueueWith`.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { ErrorCode } from "rapidai/background";
import "../fixtures/conformance-tasks.js";
import { patient } from "../fixtures/conformance-ops-tasks.js";
import "../fixtures/compute-tasks.js";
import { until } from "../support/until.js";
import {
  type Backend,
  finished,
  holds,
  invalid,
  journal,
  queues,
  started,
} from "./case-support.js";

const id = () => randomUUID();
const INVALID = ErrorCode.INVALID_OPTION;

export function operatingConformance(backend: Backend): void {
  describe(`operating conformance: ${backend.name}`, () => {
    const { open, sibling } = queues(backend);

    it("retry: a failed job runs again with a fresh budget, attempts and logs keep counting", async () => {
      const q = await open();
      const j = journal(q);
      const jobId = await q.enqueue(id(), "confops.logAndFail", []);
      const first = await finished(q, jobId);
      assert.equal(first.status, "failed");
      assert.equal(first.attempts, 2);
      assert.equal(await q.retry(jobId), true);
      const retried = await until("a retried event", () => j.named("retried", jobId)[0]);
      assert.deepEqual(retried.e, {
        jobId,
        task: "confops.logAndFail",
        from: "failed",
        attempts: 2,
      });
      await until("status failed -> pending", () =>
        j.named("status", jobId).some((x) => x.e.from === "failed" && x.e.to === "pending"),
      );
      const second = await finished(q, jobId);
      assert.equal(second.status, "failed");
      assert.equal(second.attempts, 4, "maxRetries 1 again: two more attempts");
      assert.match(second.error ?? "", /attempt 4 failed/);
      assert.deepEqual(await q.getLogs(jobId), [
        "attempt 1",
        "attempt 2",
        "attempt 3",
        "attempt 4",
      ]);
    });

    it("retry: a cancelled job goes back to pending and runs", async () => {
      const q = await open();
      const j = journal(q);
      const jobId = await q.enqueue(id(), "conf.add", [4, 5], { delayMs: 60_000 });
      assert.equal(await q.cancel(jobId), true);
      assert.equal(await q.retry(jobId), true);
      const r = await finished(q, jobId);
      assert.equal(r.status, "completed");
      assert.equal(r.result, 9);
      const retried = await until("a retried event", () => j.named("retried", jobId)[0]);
      assert.equal(retried.e.from, "cancelled");
    });

    it("retry: false for a running, pending, completed or unknown job", async () => {
      const q = await open();
      const running = await q.enqueue(id(), "conf.sleep", [30_000]);
      await started(q, running);
      assert.equal(await q.retry(running), false);
      const pending = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000 });
      assert.equal(await q.retry(pending), false);
      assert.equal(await q.retry("no-such-job"), false);
      assert.equal(await q.cancel(running), true);
      const done = await q.enqueue(id(), "conf.add", [1, 2]);
      await finished(q, done);
      assert.equal(await q.retry(done), false);
      assert.equal((await q.getResult(done))?.status, "completed");
      assert.equal((await q.getResult(pending))?.status, "pending");
    });

    it("promote: a delayed job runs now; false for a ready, a running or an unknown job", async () => {
      const q = await open();
      const delayed = await q.enqueue(id(), "conf.add", [2, 2], { delayMs: 60_000 });
      assert.equal(await q.promote(delayed), true);
      const r = await finished(q, delayed);
      assert.equal(r.result, 4);
      assert.ok(r.startedAt!.getTime() - r.createdAt.getTime() < 30_000, "did not wait its delay");
      const running = await q.enqueue(id(), "conf.sleep", [30_000]);
      await started(q, running);
      assert.equal(await q.promote(running), false);
      await q.pause();
      const ready = await q.enqueue(id(), "conf.add", [3, 3]);
      assert.equal(await q.promote(ready), false);
      assert.equal(await q.promote("no-such-job"), false);
      assert.equal(await q.cancel(running), true);
      await q.resume();
      assert.equal((await finished(q, ready)).result, 6);
    });

    it("pause: running jobs finish, nothing new starts, enqueue is accepted; resume starts them", async () => {
      const q = await open();
      const j = journal(q);
      const running = await q.enqueue(id(), "conf.sleep", [300]);
      await started(q, running);
      await q.pause();
      assert.equal(await q.isPaused(), true);
      await until("a paused event", () => j.named("paused").length === 1);
      const held = await q.enqueue(id(), "conf.add", [5, 5]);
      assert.equal((await finished(q, running)).status, "completed", "the running job finished");
      await holds(
        "the job enqueued while paused stays pending",
        async () => (await q.getResult(held))?.status === "pending",
        400,
      );
      assert.equal(j.named("started", held).length, 0);
      const resumedAt = Date.now();
      await q.resume();
      assert.equal(await q.isPaused(), false);
      await until("a resumed event", () => j.named("resumed").length === 1);
      const r = await finished(q, held);
      assert.equal(r.result, 10);
      assert.ok(r.startedAt!.getTime() >= resumedAt - 5, "it started only after resume");
    });

    // Only a store that other processes share has another process to pause from.
    const shared = backend.sibling === undefined ? it.skip : it;
    shared(
      "pause from another process stops this one's claims; resume from there starts them",
      async () => {
        const worker = await open();
        const j = journal(worker);
        const web = sibling(worker, { process: false });
        // Running, and (as any call on it shows) subscribed to the others' events.
        await worker.start();
        assert.equal(await worker.isPaused(), false);
        await web.pause();
        assert.equal(await worker.isPaused(), true);
        await until("the paused event in the worker", () => j.named("paused").length === 1);
        const jobId = await web.enqueue(id(), "conf.add", [7, 7]);
        await holds(
          "the worker starts nothing while paused",
          async () => (await worker.getResult(jobId))?.status === "pending",
          600,
        );
        const resumedAt = Date.now();
        await web.resume();
        await until("the resumed event in the worker", () => j.named("resumed").length === 1);
        const r = await finished(worker, jobId);
        assert.equal(r.result, 14);
        assert.ok(r.startedAt!.getTime() >= resumedAt - 5);
      },
    );

    it("remove: deletes a pending or finished job with its log; false for a running or unknown one", async () => {
      const q = await open();
      const pending = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000 });
      assert.equal(await q.remove(pending), true);
      assert.equal(await q.getResult(pending), undefined);
      const logged = await q.enqueue(id(), "compute.logLines", [3, 0]);
      await finished(q, logged);
      assert.deepEqual(await q.getLogs(logged), ["line 0", "line 1", "line 2"]);
      assert.equal(await q.remove(logged), true);
      assert.equal(await q.getResult(logged), undefined);
      assert.equal(await q.getLogs(logged), undefined, "its log went with it");
      assert.equal(await q.remove(logged), false);
      const running = await q.enqueue(id(), "conf.sleep", [30_000]);
      await started(q, running);
      assert.equal(await q.remove(running), false);
      assert.equal((await q.getResult(running))?.status, "running");
      assert.equal(await q.remove("no-such-job"), false);
      await q.cancel(running);
    });

    it("clean: deletes finished jobs of one status, respecting olderThanMs and limit", async () => {
      const q = await open();
      const old = await q.enqueue(id(), "conf.add", [0, 1]);
      const oldDone = await finished(q, old);
      await until(
        "the first job to be 600 ms old",
        () => Date.now() - oldDone.completedAt!.getTime() >= 600,
      );
      const recent = [];
      for (let i = 0; i < 3; i++) recent.push(await q.enqueue(id(), "conf.add", [i, 1]));
      const failed = [];
      for (let i = 0; i < 2; i++)
        failed.push(await q.enqueue(id(), "conf.fail", ["x"], { maxRetries: 0 }));
      const done = await Promise.all([...recent, ...failed].map((jobId) => finished(q, jobId)));
      // The cut-off half-way between the old job's end and the first recent
      // one's, however long the recent ones took on a loaded machine: the old
      // one is at least 300 ms older than it, the recent ones 300 ms younger.
      const firstRecent = Math.min(...done.map((j) => j.completedAt!.getTime()));
      const middle = (oldDone.completedAt!.getTime() + firstRecent) / 2;
      const olderThanMs = Math.round(Date.now() - middle);
      assert.equal(await q.clean({ status: "completed", olderThanMs }), 1);
      assert.equal(await q.getResult(old), undefined);
      assert.equal(await q.clean({ status: "completed", olderThanMs: 60_000 }), 0);
      assert.equal(await q.clean({ status: "failed", limit: 1 }), 1);
      assert.equal((await q.countJobs()).failed, 1);
      assert.equal(await q.clean({ status: "failed" }), 1);
      assert.equal(await q.clean({ status: "cancelled" }), 0);
      const counts = await q.countJobs();
      assert.equal(counts.completed, 3, "other statuses are left alone");
      assert.equal(counts.failed, 0);
      await assert.rejects(
        () => q.clean({ status: "running" as never }),
        invalid(INVALID, "status"),
      );
      await assert.rejects(
        () => q.clean({ status: "pending" as never }),
        invalid(INVALID, "status"),
      );
      assert.equal((await q.countJobs()).completed, 3);
    });

    it("logs: oldest first, bounded by maxLogLines; [] when nothing was logged, undefined when unknown", async () => {
      const q = await open({ maxLogLines: 5 });
      const jobId = await q.enqueue(id(), "compute.logLines", [12, 0]);
      assert.equal((await finished(q, jobId)).status, "completed");
      assert.deepEqual(await q.getLogs(jobId), [
        "line 7",
        "line 8",
        "line 9",
        "line 10",
        "line 11",
      ]);
      const quiet = await q.enqueue(id(), "conf.add", [1, 1]);
      await finished(q, quiet);
      assert.deepEqual(await q.getLogs(quiet), []);
      assert.equal(await q.getLogs("no-such-job"), undefined);
    });

    it("UnrecoverableError fails the job at once, with retries left", async () => {
      const q = await open();
      const r = await finished(q, await q.enqueue(id(), "confops.refuse", ["bad input"]));
      assert.equal(r.status, "failed");
      assert.equal(r.attempts, 1);
      assert.equal(r.maxRetries, 3);
      assert.match(r.error ?? "", /bad input/);
    });

    it("enqueueWith({ timeoutMs }) overrides the task's timeout; timeoutMs <= 0 is refused", async () => {
      const q = await open({ asDefault: true, cancelGraceMs: 100 });
      const jobId = await patient.enqueueWith({ timeoutMs: 500 }, 10_000);
      const r = await finished(q, jobId);
      assert.equal(r.status, "failed");
      assert.equal(r.errorCode, ErrorCode.TIMEOUT);
      assert.ok(
        r.completedAt!.getTime() - r.startedAt!.getTime() < 5_000,
        "ended by its own timeout",
      );
      for (const bad of [0, -1])
        await assert.rejects(
          () => patient.enqueueWith({ timeoutMs: bad }, 1),
          invalid(INVALID, "timeoutMs"),
        );
      assert.equal((await q.listJobs()).length, 1, "nothing stored for the refused ones");
    });

    it("enqueueWith({ dedupe }): the existing id while it runs and within ttlMs, a new job after", async () => {
      const q = await open({ asDefault: true });
      // A warm thread, so the deduplicated job ends well inside its window.
      await finished(q, await q.enqueue(id(), "conf.add", [0, 0]));
      const key = `user-${id()}`;
      const ttlMs = 2500;
      const dedupe = { key, ttlMs };
      const first = await patient.enqueueWith({ dedupe }, 200);
      assert.equal(
        await patient.enqueueWith({ dedupe }, 999),
        first,
        "while it is pending or running",
      );
      const r = await finished(q, first);
      assert.equal(r.result, 200);
      assert.equal(await patient.enqueueWith({ dedupe }, 1), first, "within ttlMs, once it ended");
      assert.equal(
        (await q.listJobs(undefined, { task: "confops.patient" })).length,
        1,
        "nothing new stored",
      );
      const windowEnd = Math.max(r.createdAt.getTime(), r.completedAt!.getTime()) + ttlMs;
      await until("the dedupe window to pass", () => Date.now() > windowEnd + 20);
      const next = await patient.enqueueWith({ dedupe }, 1);
      assert.notEqual(next, first);
      assert.equal((await finished(q, next)).result, 1);
      for (const [bad, option] of [
        [{ key: "" }, "dedupe.key"],
        [{ key: "k", ttlMs: -1 }, "dedupe.ttlMs"],
        [{ key: "k", ttlMs: 31 * 86_400_000 }, "dedupe.ttlMs"],
      ] as const)
        await assert.rejects(
          () => patient.enqueueWith({ dedupe: bad }, 1),
          invalid(INVALID, option),
        );
      assert.equal((await q.countJobs()).completed, 3, "nothing stored for the refused ones");
    });

    it("dedupe with no ttlMs holds while the job is pending, and no longer once it ended", async () => {
      const q = await open();
      const key = `k-${id()}`;
      const a = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000, dedupe: { key } });
      assert.equal(await q.enqueue(id(), "conf.add", [2, 2], { dedupe: { key } }), a);
      assert.deepEqual((await q.getResult(a))?.args, [1, 1], "the first job stays as it was");
      assert.equal((await q.countJobs()).pending, 1);
      assert.equal(await q.cancel(a), true);
      const b = await q.enqueue(id(), "conf.add", [2, 2], { dedupe: { key } });
      assert.notEqual(b, a);
      assert.equal((await finished(q, b)).result, 4);
    });
  });
}
