/**
 * Compute jobs (DESIGN.md section 8) and the payload and event details both
 * stores must agree on (issue 10): moved and shared buffers, the elastic
 * pool and thread recycling, results that cannot be cloned, -0, Error
 * arguments, the fields of `failed`.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ErrorCode, type JobResult, move } from "rapidai/background";
import "../fixtures/compute-tasks.js";
import type { Seen } from "../fixtures/compute-tasks.js";
import "../fixtures/conformance-ops-tasks.js";
import "../fixtures/conformance-tasks.js";
import { until } from "../support/until.js";
import { type Backend, finished, journal, queues } from "./case-support.js";

const id = () => randomUUID();

/** Two jobs ran at the same time. */
function overlapped(a: JobResult, b: JobResult): boolean {
  return (
    a.startedAt!.getTime() < b.completedAt!.getTime() &&
    b.startedAt!.getTime() < a.completedAt!.getTime()
  );
}

export function computeConformance(backend: Backend): void {
  describe(`compute conformance: ${backend.name}`, () => {
    const { open } = queues(backend);

    it("move(): the job sees the bytes, a retry sees the same bytes, move(out) returns the result", async () => {
      const q = await open();
      const values = new Float64Array([1, 2, 3, 4]);
      const jobId = await q.enqueue(id(), "compute.sumValues", [move(values)]);
      if (q.backend === "memory")
        assert.equal(values.byteLength, 0, "the caller's view is detached, as with postMessage");
      const seen = (await finished(q, jobId)).result as Seen;
      assert.deepEqual([seen.length, seen.sum], [4, 10]);

      const again = await q.enqueue(id(), "compute.sumOnSecondTry", [
        move(new Float64Array([5, 6])),
      ]);
      const r = await finished(q, again);
      assert.equal(r.status, "completed", r.error);
      assert.equal(r.attempts, 2);
      const second = r.result as Seen;
      assert.deepEqual([second.attempt, second.length, second.sum], [2, 2, 11]);

      const out = await finished(
        q,
        await q.enqueue(id(), "compute.doubled", [move(new Float64Array([1, 2, 3]))]),
      );
      assert.deepStrictEqual(out.result, new Float64Array([2, 4, 6]));
    });

    // DESIGN.md section 8: memory is shared on the in-memory queue only.
    const inProcess = backend.sibling === undefined ? it : it.skip;
    inProcess(
      "a SharedArrayBuffer argument is shared on the in-memory queue: the caller sees the job's writes",
      async () => {
        const q = await open();
        const cells = new Int32Array(new SharedArrayBuffer(4));
        const bare = new SharedArrayBuffer(4);
        const r = await finished(q, await q.enqueue(id(), "compute.bumpShared", [cells, bare]));
        assert.equal(r.status, "completed", r.error);
        assert.equal((r.result as Seen).shared, true);
        assert.equal(Atomics.load(cells, 0), 1);
        assert.equal(Atomics.load(new Int32Array(bare), 0), 10);
      },
    );

    it("{ minThreads: 1, maxThreads: 2, idleTimeoutMs } grows to two threads under load and runs jobs after shrinking", async () => {
      const q = await open({ minThreads: 1, maxThreads: 2, idleTimeoutMs: 150 });
      const [a, b] = await Promise.all(
        [id(), id()].map(async (jobId) =>
          finished(q, await q.enqueue(jobId, "compute.threadAfter", [400])),
        ),
      );
      assert.equal(a!.status, "completed", a!.error);
      assert.equal(b!.status, "completed", b!.error);
      assert.ok(overlapped(a!, b!), "both ran at once");
      assert.notEqual(a!.result, b!.result, "on two threads");
      const lastEnd = Math.max(a!.completedAt!.getTime(), b!.completedAt!.getTime());
      await until("the idle timeout to pass", () => Date.now() > lastEnd + 400);
      const later = await finished(q, await q.enqueue(id(), "conf.add", [2, 40]));
      assert.equal(later.result, 42);
    });

    it("threads: 2 is still min = max = 2", async () => {
      const q = await open({ threads: 2 });
      const [a, b] = await Promise.all(
        [id(), id()].map(async (jobId) =>
          finished(q, await q.enqueue(jobId, "compute.threadAfter", [300])),
        ),
      );
      assert.ok(overlapped(a!, b!), "both ran at once");
    });

    it("maxJobsPerThread: 2 replaces the thread between jobs, and no job fails", async () => {
      const q = await open({ threads: 1, maxJobsPerThread: 2 });
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push(await q.enqueue(id(), "compute.threadAfter", [0]));
      const results = await Promise.all(ids.map((jobId) => finished(q, jobId)));
      for (const r of results) assert.equal(r.status, "completed", r.error);
      const perThread = new Map<unknown, number>();
      for (const r of results) perThread.set(r.result, (perThread.get(r.result) ?? 0) + 1);
      assert.deepEqual([...perThread.values()], [2, 2, 2], "three threads, two jobs each");
    });

    it("maxJobsPerThread holds for short jobs prefetched onto a thread: none runs more than its share, none fails", async () => {
      const q = await open({ threads: 1, maxJobsPerThread: 3 });
      // Known to be short first, so the rest go in batches, queued on the thread.
      await finished(q, await q.enqueue(id(), "compute.threadAfter", [0]));
      const ids = Array.from({ length: 30 }, () => id());
      await q.enqueueMany(ids.map((jobId) => ({ jobId, task: "compute.threadAfter", args: [0] })));
      const results = await Promise.all(ids.map((jobId) => finished(q, jobId)));
      const perThread = new Map<unknown, number>();
      for (const r of results) {
        assert.equal(r.status, "completed", r.error);
        assert.equal(r.attempts, 1, "a job given back unstarted keeps its attempt");
        perThread.set(r.result, (perThread.get(r.result) ?? 0) + 1);
      }
      for (const [thread, jobs] of perThread)
        assert.ok(jobs <= 3, `thread ${thread} ran ${jobs} of these jobs`);
    });

    it("short jobs sent to a thread in one batch are each done as soon as they end, not when the last job of their batch does", async () => {
      const dir = mkdtempSync(join(tmpdir(), "rapidai-batch-"));
      const open_ = join(dir, "open");
      const release = join(dir, "release");
      try {
        writeFileSync(open_, "");
        const q = await open({ threads: 1 });
        // One at a time, so that each takes only its trip to the thread: the
        // task is then known to be short, and its jobs are batched.
        for (let n = 0; n < 100; n++)
          await finished(q, await q.enqueue(id(), "compute.holdUntilFile", [open_, n]));
        // Three in one call on one thread: one batch, whose last job holds
        // the thread until the test lets it go.
        const [a, b, c] = [id(), id(), id()];
        const j = journal(q);
        await q.enqueueMany([
          { jobId: a, task: "compute.holdUntilFile", args: [open_, 0] },
          { jobId: b, task: "compute.holdUntilFile", args: [open_, 1] },
          { jobId: c, task: "compute.holdUntilFile", args: [release, 2] },
        ]);
        const first = await until(
          "the first job's completed event",
          () => j.named("completed", a)[0],
        );
        assert.equal(first.e.result, 0);
        const last = await q.getResult(c);
        assert.equal(last?.status, "running", "the batch's last job was still held");
        writeFileSync(release, "");
        const results = await Promise.all([a, b, c].map((jobId) => finished(q, jobId)));
        assert.deepEqual(
          results.map((r) => r.result),
          [0, 1, 2],
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the failed event carries durationMs when the job ran", async () => {
      const q = await open();
      const j = journal(q);
      const jobId = await q.enqueue(id(), "conf.fail", ["x"], { maxRetries: 0 });
      await finished(q, jobId);
      const failed = await until("a failed event", () => j.named("failed", jobId)[0]);
      assert.deepEqual(
        Object.keys(failed.e)
          .filter((k) => failed.e[k] !== undefined)
          .sort(),
        ["attempt", "durationMs", "error", "jobId", "task"],
      );
      assert.ok(typeof failed.e.durationMs === "number" && failed.e.durationMs >= 0);
      assert.equal(failed.e.attempt, 1);
    });

    for (const kind of ["function", "weakmap", "symbol"] as const) {
      it(`a job returning a ${kind} fails with ERR_RESULT_NOT_CLONEABLE`, async () => {
        const q = await open();
        const j = journal(q);
        const jobId = await q.enqueue(id(), "confops.oddResult", [kind]);
        const r = await finished(q, jobId);
        assert.equal(r.status, "failed");
        assert.equal(r.errorCode, ErrorCode.RESULT_NOT_CLONEABLE, r.error);
        assert.equal(r.attempts, 1);
        assert.equal(r.result, undefined);
        const failed = await until("a failed event", () => j.named("failed", jobId)[0]);
        assert.equal(failed.e.code, ErrorCode.RESULT_NOT_CLONEABLE);
      });
    }

    it("-0 comes back as -0, in the result and the completed event", async () => {
      const q = await open();
      const j = journal(q);
      const jobId = await q.enqueue(id(), "confops.oddResult", ["negzero"]);
      const r = await finished(q, jobId);
      assert.equal(r.status, "completed", r.error);
      assert.ok(Object.is(r.result, -0), `got ${r.result}`);
      assert.ok(Object.is((await q.getResult(jobId))?.result, -0));
      const completed = await until("a completed event", () => j.named("completed", jobId)[0]);
      assert.ok(Object.is(completed.e.result, -0));
    });

    it("an Error argument keeps its message and its own stack", async () => {
      const q = await open();
      const error = new RangeError("kaput");
      const r = await finished(q, await q.enqueue(id(), "confops.inspectError", [error]));
      assert.equal(r.status, "completed", r.error);
      assert.deepEqual(r.result, {
        isError: true,
        name: "RangeError",
        message: "kaput",
        stack: error.stack,
      });
      const stored = (await q.getResult(r.jobId))?.args?.[0] as Error;
      assert.ok(stored instanceof Error);
      assert.equal(stored.message, "kaput");
      assert.equal(stored.stack, error.stack);
    });
  });
}
