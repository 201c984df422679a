/**
 * The queue conformance suite: one set of behaviours every backend must
 * show, run against each backend by test/conformance.test.ts. A backend is
 * given as a factory of fresh, empty queues.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  ErrorCode,
  JOB_EVENTS,
  type JobError,
  type JobQueue,
  type JobQueueEvents,
  type JobResult,
  type StatusEvent,
} from "rapidai/background";
import "../fixtures/conformance-tasks.js";
import { until } from "../support/until.js";

/** Options a test may ask of a fresh queue. */
export interface ConformanceQueueOptions {
  threads?: number;
  cancelGraceMs?: number;
  /** Start higher-priority jobs strictly first (no jobs taken ahead of time). */
  strictOrder?: boolean;
}

export type QueueFactory = (options?: ConformanceQueueOptions) => JobQueue | Promise<JobQueue>;

type Name = keyof JobQueueEvents;
const EVENT_NAMES: readonly Name[] = JOB_EVENTS;

/** Every event payload, in order, with its name. */
function journal(queue: JobQueue) {
  const log: { name: Name; e: any }[] = [];
  for (const name of EVENT_NAMES) {
    queue.on(name, ((e: unknown) => {
      log.push({ name, e });
    }) as never);
  }
  const of = (jobId: string) => log.filter((x) => x.e.jobId === jobId);
  return { log, of };
}

function code(error: unknown): string | undefined {
  return (error as JobError)?.code;
}

export function queueConformance(backend: string, factory: QueueFactory): void {
  describe(`queue conformance: ${backend}`, () => {
    const opened: JobQueue[] = [];
    const open = async (options?: ConformanceQueueOptions) => {
      const q = await factory({ threads: 1, ...options });
      opened.push(q);
      return q;
    };
    after(async () => {
      await Promise.all(opened.map((q) => q.close({ timeoutMs: 1000 })));
    });
    const id = () => randomUUID();
    const wait = (q: JobQueue, jobId: string) => q.waitFor(jobId, { timeoutMs: 20_000 });
    const started = (q: JobQueue, jobId: string) =>
      until(
        `job ${jobId} to start`,
        async () => (await q.getResult(jobId))?.progress === "started",
      );

    it("runs a job to completed with its result and timestamps", async () => {
      const q = await open();
      const jobId = await q.enqueue(id(), "conf.add", [2, 3]);
      const r = await wait(q, jobId);
      assert.equal(r.status, "completed");
      assert.equal(r.result, 5);
      assert.equal(r.attempts, 1);
      assert.equal(r.maxRetries, 0);
      assert.equal(r.task, "conf.add");
      assert.equal(r.isDone, true);
      assert.ok(
        r.createdAt instanceof Date && r.startedAt instanceof Date && r.completedAt instanceof Date,
      );
      assert.ok(r.startedAt!.getTime() >= r.createdAt.getTime());
      assert.ok(r.completedAt!.getTime() >= r.startedAt!.getTime());
      assert.equal(typeof r.duration, "number");
      assert.deepEqual((await q.getResult(jobId))?.result, 5);
    });

    it("round-trips Date, Map, Set, BigInt, typed arrays and nested values unchanged", async () => {
      const q = await open();
      const value = {
        when: new Date("2024-02-29T12:34:56.789Z"),
        map: new Map<unknown, unknown>([
          ["a", 1],
          [2, { deep: [new Set(["x", "y"])] }],
        ]),
        set: new Set([1, "two", 3n]),
        big: 2n ** 70n,
        negBig: -(2n ** 65n),
        bytes: new Uint8Array([0, 1, 2, 255]),
        floats: new Float64Array([1.5, -0, Number.NaN]),
        ints: new Int32Array([-1, 2 ** 31 - 1]),
        nested: { list: [1, [2, [3, { four: 4 }]]], nothing: null, text: "ünïcödé ✓" },
      };
      const jobId = await q.enqueue(id(), "conf.echo", [value]);
      const r = await wait(q, jobId);
      assert.equal(r.status, "completed", r.error);
      assert.deepStrictEqual(r.result, value);
      assert.deepStrictEqual((await q.getResult(jobId))?.args, [value]);
    });

    it("runs a task whose name is not ASCII, with its arguments and result intact", async () => {
      const q = await open();
      const jobId = await q.enqueue(id(), "conf.tâche ✓", ["ünïcödé"]);
      const r = await wait(q, jobId);
      assert.equal(r.status, "completed", r.error);
      assert.equal(r.task, "conf.tâche ✓");
      assert.equal(r.result, "ünïcödé ✓");
    });

    it("keeps a job that returns undefined apart from one that returns null, in results and events", async () => {
      const q = await open();
      const j = journal(q);
      const none = await q.enqueue(id(), "conf.echo", [undefined]);
      const nul = await q.enqueue(id(), "conf.echo", [null]);
      for (const [jobId, expected] of [
        [none, undefined],
        [nul, null],
      ] as const) {
        const r = await wait(q, jobId);
        assert.equal(r.status, "completed", r.error);
        assert.strictEqual(r.result, expected);
        assert.strictEqual((await q.getResult(jobId))?.result, expected);
        const completed = await until("a completed event", () =>
          j.of(jobId).find((x) => x.name === "completed"),
        );
        assert.strictEqual((completed.e as { result?: unknown }).result, expected);
      }
    });

    it("retries a failing job, emitting retrying with the attempt, error and delay, and counts attempts", async () => {
      const q = await open();
      const j = journal(q);
      const jobId = await q.enqueue(id(), "conf.flaky", [2]);
      const r = await wait(q, jobId);
      assert.equal(r.status, "completed");
      assert.equal(r.result, 3);
      assert.equal(r.attempts, 3);
      assert.equal(r.maxRetries, 3);
      const retrying = await until("two retrying events", () => {
        const e = j.of(jobId).filter((x) => x.name === "retrying");
        return e.length === 2 && e;
      });
      assert.deepEqual(
        retrying.map((x) => [x.e.attempt, x.e.delayMs]),
        [
          [1, 20],
          [2, 20],
        ],
      );
      assert.match(retrying[0]!.e.error, /flaky attempt 1/);
    });

    it("retries at once when the backoff is zero, with nothing else going on to wake the queue", async () => {
      // Two threads: while the job runs, the free one makes the queue look
      // for more and find nothing, so only the retry itself can wake it.
      const q = await open({ threads: 2 });
      const j = journal(q);
      const jobId = await q.enqueue(id(), "conf.flakyNow", [2]);
      const r = await wait(q, jobId);
      assert.equal(r.status, "completed");
      assert.equal(r.attempts, 3);
      const retrying = await until("two retrying events", () => {
        const e = j.of(jobId).filter((x) => x.name === "retrying");
        return e.length === 2 && e;
      });
      assert.deepEqual(
        retrying.map((x) => x.e.delayMs),
        [0, 0],
      );
    });

    it("fails a job for good once no retry is left, keeping the last error", async () => {
      const q = await open();
      const j = journal(q);
      const jobId = await q.enqueue(id(), "conf.fail", ["boom"]);
      const r = await wait(q, jobId);
      assert.equal(r.status, "failed");
      assert.equal(r.attempts, 2);
      assert.equal(r.error, "boom");
      assert.equal(r.result, undefined);
      const failed = await until("a failed event", () =>
        j.of(jobId).find((x) => x.name === "failed"),
      );
      assert.equal(failed.e.attempt, 2);
      assert.match(failed.e.error, /boom/);
    });

    it("cancels a pending job, which then never runs", async () => {
      const q = await open();
      const jobId = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000 });
      assert.equal(await q.cancel(jobId), true);
      const r = await q.getResult(jobId);
      assert.equal(r?.status, "cancelled");
      assert.equal(r?.attempts, 0);
      assert.equal(r?.startedAt, undefined);
      assert.equal(await q.cancel(jobId), false, "a second cancel finds it finished");
    });

    it("cancels a running job: its signal aborts inside the job, which stops on its own well before the grace period", async () => {
      // A long grace period: only the job's own stop ends it quickly and keeps its thread.
      const graceMs = 10_000;
      const q = await open({ cancelGraceMs: graceMs });
      const thread = async () => (await wait(q, await q.enqueue(id(), "conf.thread", []))).result;
      const before = await thread();
      const dir = mkdtempSync(join(tmpdir(), "rapidai-conf-"));
      try {
        const file = join(dir, "aborted.log");
        const jobId = await q.enqueue(id(), "conf.sleep", [30_000, file]);
        await started(q, jobId);
        const t0 = Date.now();
        assert.equal(await q.cancel(jobId), true);
        const took = Date.now() - t0;
        assert.ok(took < graceMs / 2, `cancel resolved after ${took} ms`);
        const r = await q.getResult(jobId);
        assert.equal(r?.status, "cancelled");
        assert.equal(r?.attempts, 1);
        // The job's own note: its signal aborted, with the cancel's reason, on its thread.
        const notes = readFileSync(file, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        assert.deepEqual(
          notes.map((n) => [n.code, n.threadId]),
          [[ErrorCode.CANCELLED, before]],
        );
        assert.ok(notes[0].at - t0 < graceMs, "the signal aborted before the grace period ran out");
        assert.equal(await thread(), before, "the thread was not terminated");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("stops a running job that ignores its signal by terminating its thread, and carries on", async () => {
      const q = await open({ cancelGraceMs: 200 });
      const jobId = await q.enqueue(id(), "conf.spin", [30_000]);
      await started(q, jobId);
      assert.equal(await q.cancel(jobId), true);
      assert.equal((await wait(q, jobId)).status, "cancelled");
      const next = await wait(q, await q.enqueue(id(), "conf.add", [20, 22]));
      assert.equal(next.result, 42, "the pool replaced the terminated thread");
    });

    it("returns false when cancelling an unknown or finished job", async () => {
      const q = await open();
      assert.equal(await q.cancel("no-such-job"), false);
      const jobId = await q.enqueue(id(), "conf.add", [1, 2]);
      await wait(q, jobId);
      assert.equal(await q.cancel(jobId), false);
      assert.equal((await q.getResult(jobId))?.status, "completed");
    });

    it("ends an attempt that runs past timeoutMs with ERR_JOB_TIMEOUT", async () => {
      const q = await open({ cancelGraceMs: 100 });
      const r = await wait(q, await q.enqueue(id(), "conf.slow", [5_000]));
      assert.equal(r.status, "failed");
      assert.equal(r.errorCode, ErrorCode.TIMEOUT);
      assert.equal(r.attempts, 1);
    });

    it("lists jobs newest first, by status, with limit and offset, and counts them", async () => {
      const q = await open();
      const ids = ["a", "b", "c", "d", "e"].map((s) => `${s}-${id()}`);
      for (const jobId of ids) await q.enqueue(jobId, "conf.add", [1, 2], { delayMs: 60_000 });
      const done = await q.enqueue(`f-${id()}`, "conf.add", [1, 2]);
      await wait(q, done);
      const newest = [done, ...ids.slice().reverse()];
      assert.deepEqual(
        (await q.listJobs()).map((r) => r.jobId),
        newest,
      );
      assert.deepEqual(
        (await q.listJobs(undefined, { limit: 2, offset: 1 })).map((r) => r.jobId),
        newest.slice(1, 3),
      );
      assert.deepEqual(
        (await q.listJobs("pending")).map((r) => r.jobId),
        ids.slice().reverse(),
      );
      assert.deepEqual(
        (await q.listJobs("pending", { limit: 2, offset: 3 })).map((r) => r.jobId),
        [ids[1], ids[0]],
      );
      assert.deepEqual(
        (await q.listJobs("completed")).map((r) => r.jobId),
        [done],
      );
      assert.deepEqual(await q.listJobs("failed"), []);
      assert.deepEqual(
        (await q.listJobs(undefined, { task: "conf.add", limit: 1 })).map((r) => r.jobId),
        [done],
      );
      assert.deepEqual(await q.countJobs(), {
        pending: 5,
        running: 0,
        completed: 1,
        failed: 0,
        cancelled: 0,
      });
      await assert.rejects(
        () => q.listJobs("Pending" as never),
        (e) => code(e) === ErrorCode.INVALID_STATUS,
      );
      for (const jobId of ids) await q.cancel(jobId);
      assert.deepEqual(await q.countJobs(), {
        pending: 0,
        running: 0,
        completed: 1,
        failed: 0,
        cancelled: 5,
      });
    });

    it("emits status on every transition and the typed event of each", async () => {
      const q = await open();
      const j = journal(q);
      const flakyId = await q.enqueue(id(), "conf.flaky", [1]);
      await wait(q, flakyId);
      const statuses = await until("five status events", () => {
        const s = j.of(flakyId).filter((x) => x.name === "status");
        return s.length === 5 && s.map((x) => x.e as StatusEvent);
      });
      assert.deepEqual(
        statuses.map((s) => [s.from, s.to, s.attempts]),
        [
          [null, "pending", 0],
          ["pending", "running", 1],
          ["running", "pending", 1],
          ["pending", "running", 2],
          ["running", "completed", 2],
        ],
      );
      for (const s of statuses) {
        assert.equal(s.task, "conf.flaky");
        assert.equal(typeof s.at, "number");
      }
      const names = () =>
        j
          .of(flakyId)
          .filter((x) => x.name !== "status")
          .map((x) => x.name);
      await until("the typed events", () => names().length === 5);
      assert.deepEqual(names(), ["enqueued", "started", "retrying", "started", "completed"]);
      const completed = j.of(flakyId).find((x) => x.name === "completed")!.e;
      assert.equal(completed.result, 2);
      assert.equal(completed.attempt, 2);
      assert.equal(typeof completed.durationMs, "number");
      assert.deepEqual(j.of(flakyId).find((x) => x.name === "enqueued")!.e, {
        jobId: flakyId,
        task: "conf.flaky",
        delayMs: 0,
      });

      const failId = await q.enqueue(id(), "conf.fail", ["x"], { maxRetries: 0 });
      await wait(q, failId);
      await until("failed", () => j.of(failId).some((x) => x.name === "failed"));

      const cancelId = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000 });
      await q.cancel(cancelId);
      const cancelled = await until("cancelled", () =>
        j.of(cancelId).find((x) => x.name === "cancelled"),
      );
      assert.deepEqual(cancelled.e, { jobId: cancelId, task: "conf.add", attempts: 0 });
      await until("status to cancelled", () =>
        j
          .of(cancelId)
          .some((x) => x.name === "status" && x.e.from === "pending" && x.e.to === "cancelled"),
      );

      const progressId = await q.enqueue(id(), "conf.halfway", []);
      await wait(q, progressId);
      const progress = await until("progress", () =>
        j.of(progressId).find((x) => x.name === "progress"),
      );
      assert.deepEqual(progress.e, { jobId: progressId, task: "conf.halfway", progress: 0.5 });
    });

    it("treats enqueue with an existing job id as idempotent", async () => {
      const q = await open();
      const jobId = `mine-${id()}`;
      assert.equal(await q.enqueue(jobId, "conf.add", [1, 1], { delayMs: 60_000 }), jobId);
      assert.equal(await q.enqueue(jobId, "conf.add", [5, 5], { delayMs: 60_000 }), jobId);
      assert.equal((await q.listJobs()).length, 1);
      assert.deepEqual((await q.getResult(jobId))?.args, [1, 1], "the first job stays as it was");
      assert.equal((await q.countJobs()).pending, 1);
    });

    it("holds a job back for delayMs", async () => {
      const q = await open();
      const r = await wait(q, await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 300 }));
      assert.equal(r.status, "completed");
      assert.ok(r.startedAt!.getTime() - r.createdAt.getTime() >= 250, "started after its delay");
    });

    it("starts higher-priority ready jobs first", async () => {
      const q = await open({ threads: 1, strictOrder: true });
      const j = journal(q);
      const blocker = await q.enqueue(id(), "conf.sleep", [400]);
      await started(q, blocker);
      const low = await q.enqueue(id(), "conf.add", [0, 0], { priority: 0 });
      const high = await q.enqueue(id(), "conf.add", [1, 1], { priority: 5 });
      await Promise.all([wait(q, low), wait(q, high)]);
      // The order of the started events, which cannot tie as start times in ms can.
      const starts = await until("both started events", () => {
        const s = j.log.filter((x) => x.name === "started").map((x) => x.e.jobId);
        return s.includes(low) && s.includes(high) && s;
      });
      assert.ok(starts.indexOf(high) < starts.indexOf(low), "the high-priority job started first");
    });

    it("rejects arguments that cannot be cloned, naming the argument, and stores nothing", async () => {
      const q = await open();
      await assert.rejects(
        () => q.enqueue(id(), "conf.echo", [{ ok: 1, fn: () => 1 }]),
        (e) =>
          code(e) === ErrorCode.ARGUMENT_NOT_CLONEABLE &&
          /args\[0\]\.fn/.test((e as Error).message),
      );
      await assert.rejects(
        () => q.enqueue(id(), "conf.echo", [Symbol("s")]),
        (e) => code(e) === ErrorCode.ARGUMENT_NOT_CLONEABLE,
      );
      assert.deepEqual(await q.countJobs(), {
        pending: 0,
        running: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      });
    });

    it("enqueues many jobs at once, and a bad job in the batch stores none of them", async () => {
      const q = await open();
      const ids = [id(), id(), id()];
      const back = await q.enqueueMany(
        ids.map((jobId, i) => ({ jobId, task: "conf.add", args: [i, 10] })),
      );
      assert.deepEqual(back, ids);
      const results = await Promise.all(ids.map((jobId) => wait(q, jobId)));
      assert.deepEqual(
        results.map((r) => r.result),
        [10, 11, 12],
      );
      await assert.rejects(
        () =>
          q.enqueueMany([
            { jobId: id(), task: "conf.add", args: [1, 2] },
            { jobId: id(), task: "conf.echo", args: [() => 1] },
          ]),
        (e) => code(e) === ErrorCode.ARGUMENT_NOT_CLONEABLE,
      );
      assert.equal((await q.listJobs()).length, 3, "nothing of the refused batch is stored");
    });

    it("rejects an unknown task and a malformed job id at enqueue", async () => {
      const q = await open();
      await assert.rejects(
        () => q.enqueue(id(), "conf.nope", []),
        (e) => code(e) === ErrorCode.UNKNOWN_TASK,
      );
      await assert.rejects(
        () => q.enqueue("bad id!", "conf.add", [1, 2]),
        (e) => code(e) === ErrorCode.INVALID_JOB_ID,
      );
      await assert.rejects(
        () => q.enqueue("", "conf.add", [1, 2]),
        (e) => code(e) === ErrorCode.INVALID_JOB_ID,
      );
      assert.equal((await q.listJobs()).length, 0);
    });

    it("close() lets running jobs finish, is idempotent, and enqueue after it is ERR_QUEUE_CLOSED", async () => {
      const q = await open();
      const jobId = await q.enqueue(id(), "conf.sleep", [300]);
      await started(q, jobId);
      const finished = wait(q, jobId);
      const first = q.close();
      const second = q.close();
      await Promise.all([first, second]);
      assert.equal(q.closed, true);
      const r: JobResult = await finished;
      assert.equal(r.status, "completed");
      await assert.rejects(
        () => q.enqueue(id(), "conf.add", [1, 1]),
        (e) => code(e) === ErrorCode.QUEUE_CLOSED,
      );
    });

    it("after close({ timeoutMs }), waitFor() on a job still pending rejects with ERR_QUEUE_CLOSED, before and after", async () => {
      const q = await open({ threads: 1, strictOrder: true });
      const running = await q.enqueue(id(), "conf.sleep", [60_000]);
      const pending = await q.enqueue(id(), "conf.add", [1, 2]);
      await started(q, running);
      const before = q.waitFor(pending);
      before.catch(() => {});
      await q.close({ timeoutMs: 50 });
      await assert.rejects(before, (e) => code(e) === ErrorCode.QUEUE_CLOSED);
      await assert.rejects(
        () => q.waitFor(pending),
        (e) => code(e) === ErrorCode.QUEUE_CLOSED,
      );
    });
  });
}
