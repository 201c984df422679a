/**
 * Shared helpers of the engine-core tests (not a test file itself). Every
 * queue a test file makes goes through `openQueue`, and `closeQueues` in the
 * file's `after` hook closes them all, so no thread outlives the file.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  InMemoryQueue,
  type InMemoryQueueOptions,
  JOB_EVENTS,
  type JobQueue,
  type JobQueueEvents,
  type JobResult,
  type TaskRef,
} from "rapidai/background";
import { tally } from "../fixtures/core-tasks.js";

const opened: JobQueue[] = [];

/** A new in-memory queue, closed by {@link closeQueues}. */
export function openQueue(options: InMemoryQueueOptions = {}): InMemoryQueue {
  const queue = new InMemoryQueue({ threads: 1, ...options });
  opened.push(queue);
  return queue;
}

/** Remembers a queue made elsewhere (e.g. by getQueue) so it is closed too. */
export function adoptQueue<Q extends JobQueue>(queue: Q): Q {
  opened.push(queue);
  return queue;
}

/** Closes every queue this file opened; running jobs get `timeoutMs` to finish. */
export async function closeQueues(timeoutMs = 2_000): Promise<void> {
  await Promise.all(opened.splice(0).map((q) => q.close({ timeoutMs })));
}

/** Enqueues one job with a fresh id. */
export function enqueue(queue: JobQueue, task: TaskRef, ...args: unknown[]): Promise<string> {
  return queue.enqueue(randomUUID(), task, args);
}

/** Enqueues one job and waits until it is done (a generous limit turns a hang into a failure). */
export async function runToEnd(
  queue: JobQueue,
  task: TaskRef,
  ...args: unknown[]
): Promise<JobResult> {
  const id = await enqueue(queue, task, ...args);
  return queue.waitFor(id, { timeoutMs: 20_000 });
}

/** Waits for every job, with a generous limit. */
export function waitAll(queue: JobQueue, ids: string[]): Promise<JobResult[]> {
  return Promise.all(ids.map((id) => queue.waitFor(id, { timeoutMs: 30_000 })));
}

type EventName = keyof JobQueueEvents;
export type Recorded = { [K in EventName]: JobQueueEvents[K][0][] };

/** Records every payload of every event the queue emits, in order. */
export function recordEvents(queue: JobQueue): Recorded {
  const names: EventName[] = [...JOB_EVENTS, "error"];
  const out = Object.fromEntries(names.map((n) => [n, []])) as unknown as Recorded;
  for (const name of names) {
    queue.on(name, ((payload: unknown) => (out[name] as unknown[]).push(payload)) as never);
  }
  return out;
}

/** Resolves with the first payload of `event` that passes `match`. */
export function nextEvent<K extends EventName>(
  queue: JobQueue,
  event: K,
  match: (payload: JobQueueEvents[K][0]) => boolean = () => true,
): Promise<JobQueueEvents[K][0]> {
  return new Promise((resolve) => {
    const listener = (payload: JobQueueEvents[K][0]) => {
      if (!match(payload)) return;
      queue.off(event, listener as never);
      resolve(payload);
    };
    queue.on(event, listener as never);
  });
}

/**
 * Enqueues a job and resolves with its id once its body runs on a thread (the
 * fixture bodies report progress "body started"; `started` is emitted
 * earlier, when the job is handed to the pool).
 */
export async function startBody(
  queue: JobQueue,
  task: TaskRef,
  ...args: unknown[]
): Promise<string> {
  const id = randomUUID();
  const running = nextEvent(
    queue,
    "progress",
    (e) => e.jobId === id && e.progress === "body started",
  );
  await queue.enqueue(id, task, args);
  await running;
  return id;
}

/** Enqueues a job and resolves with its id once it was handed to the pool. */
export async function startJob(
  queue: JobQueue,
  task: TaskRef,
  ...args: unknown[]
): Promise<string> {
  const id = randomUUID();
  const running = nextEvent(queue, "started", (e) => e.jobId === id);
  await queue.enqueue(id, task, args);
  await running;
  return id;
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** OS threads of this process (Linux), or undefined where /proc is not available. */
export function osThreadCount(): number | undefined {
  try {
    return readdirSync("/proc/self/task").length;
  } catch {
    return undefined;
  }
}

/**
 * The OS thread count once it has stopped changing: a pool closed by an earlier
 * test lets its threads exit a moment after close() resolves, so a count read at
 * once can drop by one under the next test's feet.
 */
export async function settledThreadCount(): Promise<number | undefined> {
  let last = osThreadCount();
  for (let i = 0; i < 80 && last !== undefined; i++) {
    await new Promise((r) => setTimeout(r, 25));
    const now = osThreadCount();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Runs `fn` and returns the JobError it throws (or rejects with), failing if it does not. */
export async function caught(fn: () => unknown): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected an error, but the call succeeded");
}

/** The threadId a fresh job lands on (use on a one-thread queue to see whether the thread was replaced). */
export async function threadOf(queue: JobQueue): Promise<number> {
  const r = await runToEnd(queue, "whereAmI", "probe");
  if (r.status !== "completed") throw new Error(`probe job ${r.status}: ${r.error}`);
  return (r.result as { threadId: number }).threadId;
}

/**
 * Runs `body` with a one-thread queue on which the `tally` task is known to
 * be short, so its jobs go to the thread in batches, queued there behind the
 * job it runs; `file` is the log its runs write to, and `runs()` reads the
 * job numbers logged so far (the warm-up's -1 left out). The log's folder is
 * removed afterwards.
 */
export async function withShortTally(
  body: (queue: InMemoryQueue, file: string, runs: () => number[]) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "rapidai-core-"));
  const file = join(dir, "runs.log");
  try {
    const queue = openQueue({ threads: 1 });
    const warm: string[] = [];
    for (let n = 0; n < 100; n++) warm.push(await enqueue(queue, tally, file, -1, false));
    await waitAll(queue, warm);
    const runs = () =>
      readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map(Number)
        .filter((n) => n >= 0);
    await body(queue, file, runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
