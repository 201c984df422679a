/**
 * The cancel storm of RELIABILITY.md, for any queue: jobs are cancelled at
 * random moments while pending, while running cooperatively (awaiting their
 * signal, or calling throwIfCancelled() in a CPU loop) and while spinning in
 * a CPU loop that never checks, with healthy jobs mixed in. The driver only
 * records what happened; the test files assert on the outcome.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { BulkJob, JobQueue, JobResult } from "rapidai/background";

/** How a job of the storm behaves and when it is cancelled. */
export type StormKind =
  /** delayed by a minute: always pending when cancelled */
  | "pending"
  /** awaits its signal; cancelled soon after its body started */
  | "cooperative"
  /** throwIfCancelled() in a CPU loop; cancelled soon after its body started */
  | "checkLoop"
  /** a CPU loop that never checks; cancelled soon after its body started */
  | "spin"
  /** awaits its signal or spins (half each); cancelled at a random moment, whatever its state */
  | "anytime"
  /** never cancelled: must complete with its result */
  | "healthy";

export interface StormJob {
  id: string;
  kind: StormKind;
  task: string;
  /** Main-thread time its body reported it started, and on which thread. */
  startedAt?: number;
  thread?: number;
  /** Main-thread times around `cancel()`, and what it answered. */
  cancelCalledAt?: number;
  cancelResolvedAt?: number;
  cancelAnswer?: boolean;
  /** Status read right after `cancel()` resolved. */
  statusAfterCancel?: string;
  result?: JobResult;
}

export interface StormOptions {
  jobs: number;
  /** The queue's cancelGraceMs (only used to size the random moments). */
  graceMs: number;
  /** Latest random cancel moment of an `anytime` job, from the storm's start. @default 3000 */
  horizonMs?: number;
  /** Latest cancel after a body started. @default 40 */
  afterStartMs?: number;
  /** PRNG seed, printed so a failing storm can be replayed. @default random */
  seed?: number;
  /** Limit for waiting on each job. @default 60_000 */
  waitMs?: number;
}

export interface StormOutcome {
  seed: number;
  jobs: StormJob[];
  /** Progress reports `{ started: thread }` of every body, in arrival order. */
  starts: { id: string; thread: number; at: number }[];
  elapsedMs: number;
}

/** mulberry32: a small seeded PRNG, so a failing storm can be replayed with STORM_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Kinds in proportion: 10 % pending, 15 % anytime, 15 % cooperative, 15 % checkLoop, 10 % spin, 35 % healthy. */
function pickKind(r: number): StormKind {
  if (r < 0.1) return "pending";
  if (r < 0.25) return "anytime";
  if (r < 0.4) return "cooperative";
  if (r < 0.55) return "checkLoop";
  if (r < 0.65) return "spin";
  return "healthy";
}

/** Runs the storm on `queue` (which must run jobs of test/fixtures/cancel-storm-tasks). */
export async function runCancelStorm(queue: JobQueue, o: StormOptions): Promise<StormOutcome> {
  const seed = o.seed ?? Number(process.env.STORM_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = prng(seed);
  const horizon = o.horizonMs ?? 3000;
  const afterStart = o.afterStartMs ?? 40;
  const waitMs = o.waitMs ?? 60_000;
  const LONG = 600_000; // no cancelled job could ever end on its own

  const jobs: StormJob[] = [];
  const bulk: BulkJob[] = [];
  for (let i = 0; i < o.jobs; i++) {
    const kind = pickKind(random());
    const id = randomUUID();
    let task: string;
    let args: unknown[] = [LONG];
    let options: BulkJob["options"];
    switch (kind) {
      case "pending":
        task = "storm.awaitSignal";
        options = { delayMs: 60_000 };
        break;
      case "cooperative":
        task = "storm.awaitSignal";
        break;
      case "checkLoop":
        task = "storm.checkLoop";
        break;
      case "spin":
        task = "storm.spin";
        break;
      case "anytime":
        task = random() < 0.5 ? "storm.awaitSignal" : "storm.spin";
        break;
      case "healthy":
        task = "storm.healthy";
        args = [i, Math.floor(random() * 5)];
        break;
    }
    jobs.push({ id, kind, task });
    bulk.push(options ? { jobId: id, task, args, options } : { jobId: id, task, args });
  }
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const starts: StormOutcome["starts"] = [];
  const cancels: Promise<void>[] = [];

  const cancelNow = (job: StormJob) => {
    cancels.push(
      (async () => {
        job.cancelCalledAt = performance.now();
        job.cancelAnswer = await queue.cancel(job.id);
        job.cancelResolvedAt = performance.now();
        job.statusAfterCancel = (await queue.getResult(job.id))?.status;
      })(),
    );
  };
  const cancelLater = (job: StormJob, ms: number) => {
    cancels.push(sleep(ms).then(() => cancelNow(job)));
  };

  const onProgress = (e: { jobId: string; progress: unknown }) => {
    const p = e.progress as { started?: number } | undefined;
    if (typeof p?.started !== "number") return;
    const at = performance.now();
    starts.push({ id: e.jobId, thread: p.started, at });
    const job = byId.get(e.jobId);
    if (job === undefined || job.startedAt !== undefined) return;
    job.startedAt = at;
    job.thread = p.started;
    if (job.kind === "cooperative" || job.kind === "checkLoop" || job.kind === "spin") {
      cancelLater(job, Math.floor(random() * afterStart));
    }
  };
  queue.on("progress", onProgress as never);

  const t0 = performance.now();
  try {
    await queue.enqueueMany(bulk);
    for (const job of jobs) {
      if (job.kind === "pending") cancelLater(job, Math.floor(random() * 200));
      else if (job.kind === "anytime") cancelLater(job, Math.floor(random() * horizon));
    }
    // Wait for every job to end; cancels are scheduled as bodies start, so
    // gather them only once everything has finished.
    const results = await Promise.all(jobs.map((j) => queue.waitFor(j.id, { timeoutMs: waitMs })));
    results.forEach((r, i) => {
      jobs[i]!.result = r;
    });
    // Cancels already resolved for every cancelled job; settle the list.
    let settled = 0;
    while (settled < cancels.length) {
      const n = cancels.length;
      await Promise.all(cancels.slice(settled, n));
      settled = n;
    }
  } finally {
    queue.off("progress", onProgress as never);
  }
  return { seed, jobs, starts, elapsedMs: performance.now() - t0 };
}

/** One line of figures about a storm, for the test log. */
export function stormSummary(label: string, s: StormOutcome): string {
  const count = (k: StormKind) => s.jobs.filter((j) => j.kind === k).length;
  const cancelled = s.jobs.filter((j) => j.cancelCalledAt !== undefined);
  const waits = cancelled.map((j) => j.cancelResolvedAt! - j.cancelCalledAt!).sort((a, b) => a - b);
  const max = waits.at(-1) ?? 0;
  const p50 = waits[Math.floor(waits.length / 2)] ?? 0;
  const replaced = new Set(spunThreads(s)).size;
  return (
    `${label}: ${s.jobs.length} jobs (pending ${count("pending")}, anytime ${count("anytime")}, ` +
    `cooperative ${count("cooperative")}, checkLoop ${count("checkLoop")}, spin ${count("spin")}, ` +
    `healthy ${count("healthy")}) in ${Math.round(s.elapsedMs)} ms; cancel to cancelled ` +
    `p50 ${Math.round(p50)} ms, max ${Math.round(max)} ms; ${replaced} spinning threads; seed ${s.seed}`
  );
}

/** Threads that were running a never-checking spin when it was cancelled: each must be replaced. */
export function spunThreads(s: StormOutcome): number[] {
  return s.jobs
    .filter(
      (j) =>
        j.task === "storm.spin" &&
        j.startedAt !== undefined &&
        j.cancelCalledAt !== undefined &&
        j.startedAt <= j.cancelCalledAt,
    )
    .map((j) => j.thread!);
}
