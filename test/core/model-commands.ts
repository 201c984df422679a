/**
 * The reference model of the model-based test and its fast-check commands
 * (enqueue of each kind, cancel, wait, tick, crash), and the checks of what
 * the queue did against it: legal transitions, no attempt claimed twice,
 * each backoff as configured and never cut short. Works on any queue.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import {
  canTransition,
  ErrorCode,
  type JobQueue,
  type JobStatus,
  type RetryingEvent,
  type StartedEvent,
  type StatusEvent,
} from "rapidai/background";
import { EXPECTED_DELAYS } from "../fixtures/model-tasks.js";

/** What the reference model knows of one job. */
export interface ModelJob {
  id: string;
  task: string;
  /** Where the job ends if nobody cancels it. */
  natural: { status: JobStatus; attempts: number; result?: unknown; code?: string };
  /** A cancel() call answered true: the job must end cancelled. */
  cancelled: boolean;
  /** A wait saw it finish: later cancels must answer false. */
  finished: boolean;
}
export interface Model {
  jobs: ModelJob[];
}
export interface Real {
  queue: JobQueue;
}

/** The events of every job, by job id, in the order the queue emitted them. */
export interface Journal {
  status: Map<string, StatusEvent[]>;
  started: Map<string, StartedEvent[]>;
  retrying: Map<string, RetryingEvent[]>;
}

export function journalOf(queue: JobQueue): Journal {
  const j: Journal = { status: new Map(), started: new Map(), retrying: new Map() };
  const add =
    <E extends { jobId: string }>(map: Map<string, E[]>) =>
    (e: E) => {
      const list = map.get(e.jobId) ?? [];
      list.push(e);
      map.set(e.jobId, list);
    };
  queue.on("status", add(j.status));
  queue.on("started", add(j.started));
  queue.on("retrying", add(j.retrying));
  return j;
}

const TERMINAL: readonly (JobStatus | null)[] = ["completed", "failed", "cancelled"];

/** Where the job must end, now that the model knows whether it was cancelled. */
function expectedOf(job: ModelJob) {
  return job.cancelled ? { status: "cancelled" as const } : job.natural;
}

/** Waits for the job to end and checks its result against the model. */
async function checkResult(job: ModelJob, real: Real): Promise<void> {
  const r = await real.queue.waitFor(job.id, { timeoutMs: 20_000 });
  const want = expectedOf(job);
  assert.equal(r.status, want.status, `job ${job.id} (${job.task}): ${r.error ?? ""}`);
  if ("attempts" in want) assert.equal(r.attempts, want.attempts, `attempts of ${job.id}`);
  if (want.status === "completed") assert.deepEqual(r.result, (want as ModelJob["natural"]).result);
  if ("code" in want) assert.equal(r.errorCode, want.code, `error code of ${job.id}`);
}

/** Checks every event the job went through (once its last one arrived: a relay may lag). */
export async function checkEvents(job: ModelJob, real: Real, j: Journal): Promise<void> {
  await checkResult(job, real);
  const end = Date.now() + 10_000;
  while (!TERMINAL.includes(j.status.get(job.id)?.at(-1)?.to ?? null)) {
    if (Date.now() > end) throw new Error(`no final status event for ${job.id}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const status = j.status.get(job.id)!;
  // Only legal transitions, each from where the last one left the job.
  assert.deepEqual([status[0]?.from, status[0]?.to], [null, "pending"]);
  for (let i = 1; i < status.length; i++) {
    const e = status[i]!;
    assert.equal(e.from, status[i - 1]!.to, `job ${job.id}: transitions chain`);
    assert.ok(canTransition(e.from!, e.to), `job ${job.id}: ${e.from} → ${e.to}`);
  }
  assert.equal(status.at(-1)?.to, expectedOf(job).status);
  // No double claim: attempts started once each, in order. An attempt claimed
  // but handed back before its thread ran it (a batch mate crashed the
  // thread) goes back to pending uncounted, and its number starts again:
  // that is the only repeat allowed, once per such hand-back.
  const retrying = j.retrying.get(job.id) ?? [];
  const started = (j.started.get(job.id) ?? []).map((e) => e.attempt);
  const attempts = started.filter((a, i) => i === 0 || a !== started[i - 1]);
  // A hand-back un-counts its attempt: the job is pending with one attempt fewer.
  const handedBack = (i: number) =>
    status[i]!.from === "running" &&
    status[i]!.to === "pending" &&
    status[i]!.attempts < status[i - 1]!.attempts;
  const handBacks = status.filter((_, i) => i > 0 && handedBack(i)).length;
  assert.equal(
    started.length - attempts.length,
    handBacks,
    `job ${job.id}: an attempt started again only after it was handed back unstarted (${started})`,
  );
  assert.deepEqual(
    attempts,
    attempts.map((_, i) => i + 1),
    `job ${job.id}: attempts started`,
  );
  // Backoff times as configured, and the next attempt never before its delay ran out.
  const expected = EXPECTED_DELAYS[job.task] ?? [];
  assert.deepEqual(
    retrying.map((e) => [e.attempt, e.delayMs]),
    retrying.map((_, i) => [i + 1, expected[i]]),
    `job ${job.id} (${job.task}): retry delays`,
  );
  let k = 0;
  status.forEach((e, i) => {
    if (e.from !== "running" || e.to !== "pending" || handedBack(i)) return;
    const delayMs = retrying[k++]?.delayMs ?? 0;
    const next = status.slice(i + 1).find((s) => s.to === "running");
    // 1 ms of slack: event times are whole milliseconds.
    if (next !== undefined) {
      assert.ok(
        next.at - e.at >= delayMs - 1,
        `job ${job.id}: restarted ${next.at - e.at} ms after a ${delayMs} ms backoff`,
      );
    }
  });
  assert.equal(k, retrying.length, `job ${job.id}: one retrying event per retry`);
}

type Kind = "ok" | "fail" | "flaky" | "slow" | "delayed" | "crash";

class Enqueue implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly kind: Kind,
    readonly n: number,
  ) {}
  check() {
    return true;
  }
  async run(m: Model, r: Real) {
    const id = randomUUID();
    const add = async (
      task: string,
      args: unknown[],
      natural: ModelJob["natural"],
      options = {},
    ) => {
      await r.queue.enqueue(id, task, args, options);
      m.jobs.push({ id, task, natural, cancelled: false, finished: false });
    };
    const n = this.n;
    switch (this.kind) {
      case "ok":
        return add("model.ok", [n], { status: "completed", attempts: 1, result: n });
      case "fail": {
        const maxRetries = n % 3;
        return add(
          "model.fail",
          [],
          { status: "failed", attempts: maxRetries + 1 },
          { maxRetries },
        );
      }
      case "flaky":
        return add("model.flaky", [], { status: "completed", attempts: 2, result: 2 });
      case "slow":
        return add("model.slow", [20 + (n % 60)], {
          status: "completed",
          attempts: 1,
          result: 20 + (n % 60),
        });
      case "delayed":
        return add(
          "model.ok",
          [n],
          { status: "completed", attempts: 1, result: n },
          { delayMs: 10 + (n % 40) },
        );
      case "crash": {
        // A job that kills its thread: the attempt fails as crashed, and is retried while it may.
        const maxRetries = n % 2;
        const natural = {
          status: "failed" as const,
          attempts: maxRetries + 1,
          code: ErrorCode.WORKER_CRASHED,
        };
        return add("model.crash", [], natural, { maxRetries });
      }
    }
  }
  toString() {
    return `enqueue(${this.kind}, ${this.n})`;
  }
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>) {
    return m.jobs.length > 0;
  }
  async run(m: Model, r: Real) {
    const job = m.jobs[this.index % m.jobs.length]!;
    const answer = await r.queue.cancel(job.id);
    if (job.finished || job.cancelled)
      assert.equal(answer, false, "a finished job cannot be cancelled");
    if (answer) {
      job.cancelled = true;
      assert.equal((await r.queue.getResult(job.id))?.status, "cancelled");
    }
  }
  toString() {
    return `cancel(#${this.index})`;
  }
}

class Wait implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>) {
    return m.jobs.length > 0;
  }
  async run(m: Model, r: Real) {
    const job = m.jobs[this.index % m.jobs.length]!;
    await checkResult(job, r);
    job.finished = true;
  }
  toString() {
    return `wait(#${this.index})`;
  }
}

/** Lets time pass: delays and backoffs run out while other commands go on. */
class Tick implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check() {
    return true;
  }
  async run() {
    await new Promise((r) => setTimeout(r, this.ms));
  }
  toString() {
    return `tick(${this.ms})`;
  }
}

const enqueue = fc
  .tuple(fc.constantFrom<Kind>("ok", "fail", "flaky", "slow", "delayed", "crash"), fc.nat(1000))
  .map(([kind, n]) => new Enqueue(kind, n));

/** The commands; enqueue twice as likely as any other, so each run has jobs of most kinds. */
export const commands = [
  enqueue,
  enqueue,
  fc.nat(50).map((i) => new Cancel(i)),
  fc.nat(50).map((i) => new Wait(i)),
  fc.integer({ min: 0, max: 20 }).map((ms) => new Tick(ms)),
];
