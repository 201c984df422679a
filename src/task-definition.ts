import type { Backoff } from "./backoff.js";
import type { JobQueue } from "./job-queue.js";

/** What `background()` records about a task: everything a queue needs to run it. */
export interface TaskDefinition {
  /** The task's name: its identity across threads and processes. */
  readonly name: string;
  /** The job body. */
  readonly fn: (...args: any[]) => unknown;
  /** The module a worker thread imports to find `fn` again. */
  readonly moduleUrl: string | undefined;
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** Longest an attempt may run, in ms; `undefined` for no limit. */
  readonly timeoutMs: number | undefined;
  /** Delay before each retry. */
  readonly backoff: Backoff;
  /** The queue given in the options; `undefined` means the process default. */
  readonly queue: JobQueue | undefined;
  /** At most this many running at once across processes; `undefined` for no limit. */
  readonly concurrency?: number | undefined;
  /** At most `max` starts per `intervalMs` across processes; `undefined` for no limit. */
  readonly rateLimit?: { readonly max: number; readonly intervalMs: number } | undefined;
}
