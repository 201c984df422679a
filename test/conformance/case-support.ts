/**
 * What the conformance case files share: the backend under test, a journal
 * of events, and waits on conditions (never a fixed sleep before an assert).
 */
import { after } from "node:test";
import {
  JOB_EVENTS,
  type JobError,
  type JobQueue,
  type JobQueueEvents,
  resetDefaultQueue,
} from "rapidai/background";
import { until } from "../support/until.js";

/** Options a case may ask of a fresh queue (each store maps them to its own). */
export interface CaseQueueOptions {
  threads?: number;
  minThreads?: number;
  maxThreads?: number;
  idleTimeoutMs?: number;
  maxJobsPerThread?: number;
  cancelGraceMs?: number;
  maxLogLines?: number;
  /**
   * Make it the process-wide default queue (`getQueue()`), so tasks with no
   * `queue` option (`task.enqueueWith`, `task.schedule`) use it.
   */
  asDefault?: boolean;
}

/** A backend under test. */
export interface Backend {
  name: string;
  open(options?: CaseQueueOptions): JobQueue | Promise<JobQueue>;
  /**
   * Another queue over the same stored jobs, as another process would open
   * it (Redis: the same prefix); undefined for a store one process owns.
   */
  sibling?: (of: JobQueue, options: { process: boolean }) => JobQueue;
}

/** Opens queues for one suite and closes them all after it. */
export function queues(backend: Backend) {
  const opened: JobQueue[] = [];
  after(async () => {
    await Promise.all(opened.map((q) => q.close({ timeoutMs: 1000 })));
    resetDefaultQueue();
  });
  return {
    async open(options: CaseQueueOptions = {}): Promise<JobQueue> {
      if (options.asDefault) resetDefaultQueue();
      // One thread unless the case sizes the pool itself.
      const sized = ["threads", "minThreads", "maxThreads"].some(
        (k) => options[k as keyof CaseQueueOptions] !== undefined,
      );
      const q = await backend.open(sized ? options : { threads: 1, ...options });
      opened.push(q);
      return q;
    },
    sibling(of: JobQueue, options: { process: boolean }): JobQueue {
      const q = backend.sibling!(of, options);
      opened.push(q);
      return q;
    },
  };
}

type Name = keyof JobQueueEvents;

/** Every job event, in order, with its name. */
export function journal(queue: JobQueue) {
  const log: { name: Name; e: any; at: number }[] = [];
  for (const name of JOB_EVENTS) {
    queue.on(name, ((e: unknown) => {
      log.push({ name, e, at: Date.now() });
    }) as never);
  }
  const of = (jobId: string) => log.filter((x) => x.e.jobId === jobId);
  const named = (name: Name, jobId?: string) =>
    log.filter((x) => x.name === name && (jobId === undefined || x.e.jobId === jobId));
  return { log, of, named };
}

/**
 * Checks `ok` over and over for `ms` and fails the moment it is false: the
 * way to show something does NOT happen (a paused queue starts nothing).
 */
export async function holds(what: string, ok: () => boolean | Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  do {
    if (!(await ok())) throw new Error(`no longer true: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  } while (Date.now() < end);
}

export function code(error: unknown): string | undefined {
  return (error as JobError)?.code;
}

/** A rejection with this code whose message names `option`. */
export function invalid(codeValue: string, option: string) {
  return (e: unknown) => code(e) === codeValue && (e as Error).message.includes(option);
}

/** Waits for a job to end (a generous bound: the machine is shared). */
export function finished(q: JobQueue, jobId: string) {
  return q.waitFor(jobId, { timeoutMs: 20_000 });
}

/** Resolves once the job reported progress "started" from inside its body. */
export function started(q: JobQueue, jobId: string) {
  return until(
    `job ${jobId} to start`,
    async () => (await q.getResult(jobId))?.progress === "started",
  );
}
