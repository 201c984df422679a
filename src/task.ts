import { type BackoffOptions, parseBackoff } from "./backoff.js";
import { callerModuleUrl, displayModule, toModuleUrl } from "./caller-module.js";
import { type JobContext, maybeCurrentJob, runWithJob } from "./current-job.js";
import { scheduleMethodsOf } from "./engine/schedule-api.js";
import type { ScheduleSpec } from "./engine/schedule-spec.js";
import { ErrorCode, jobError } from "./errors.js";
import { defaultQueue } from "./get-queue.js";
import { newJobId } from "./job-id.js";
import type { EnqueueOptions, JobQueue, WaitOptions } from "./job-queue.js";
import type { JobResult } from "./job-result.js";
import { parseConcurrency, parseRateLimit } from "./operation-options.js";
import { registerTask } from "./registry.js";
import type { TaskDefinition } from "./task-definition.js";
import { workerHost } from "./thread-role.js";
import { integerOption, objectOption, rejectUnknownKeys, stringOption } from "./validate.js";

/** Options of {@link background}. */
export interface BackgroundOptions {
  /** Retries after the first attempt: 0 means one attempt only. @default 3 */
  maxRetries?: number;
  /** The queue the task's jobs go to. @default getQueue() */
  queue?: JobQueue;
  /** The task's name, its identity across threads and processes. @default fn.name */
  name?: string;
  /** The module a worker thread imports to find the task. @default the caller's module */
  module?: string | URL;
  /** Longest an attempt may run before it is ended and counted as failed. @default no limit */
  timeoutMs?: number;
  /** Delay before each retry; a number is a fixed delay in ms. @default exponential from 2 s */
  backoff?: BackoffOptions | number;
  /** At most this many jobs of the task run at once, across every process of the queue. @default no limit */
  concurrency?: number;
  /**
   * At most `max` jobs of the task start per `intervalMs`, across every
   * process of the queue; the others wait as pending (they never fail for it).
   * @default no limit
   */
  rateLimit?: { max: number; intervalMs: number };
}

type TaskFn = (...args: any[]) => unknown;
type Result<F extends TaskFn> = Awaited<ReturnType<F>>;

/** Per-call options for one enqueue. */
export interface EnqueueHandle<F extends TaskFn> {
  enqueue(...args: Parameters<F>): Promise<string>;
}

/**
 * A task: call it to run `fn` here and now, or `enqueue` it to run in the
 * background on a worker thread.
 */
export interface Task<F extends TaskFn> {
  /** Runs the function directly, in this thread, as the seed's wrapper does. */
  (...args: Parameters<F>): ReturnType<F>;
  /** The task's registered name. */
  readonly taskName: string;
  /** The queue its jobs go to (resolved at first use). */
  readonly queue: JobQueue;
  /** Enqueues a job and resolves with its id once it is stored. */
  enqueue(...args: Parameters<F>): Promise<string>;
  /** Enqueues with per-call options: own job id (idempotent), delay, priority. */
  enqueueWith(options: EnqueueOptions, ...args: Parameters<F>): Promise<string>;
  /** `task.withOptions({ delayMs: 500 }).enqueue(x)`: the same as {@link enqueueWith}. */
  withOptions(options: EnqueueOptions): EnqueueHandle<F>;
  /** A snapshot of the job, or undefined if the queue does not know it. */
  getResult(jobId: string): Promise<JobResult<Result<F>> | undefined>;
  /** Cancels a pending or running job; false when it is unknown or finished. */
  cancel(jobId: string): Promise<boolean>;
  /** Resolves once the job is completed, failed or cancelled. */
  waitFor(jobId: string, options?: WaitOptions): Promise<JobResult<Result<F>>>;
  /**
   * Stores schedule `id` in the task's queue: every tick of `{ cron, tz }`
   * or every `everyMs` enqueues one job of this task with `args`, however
   * many processes run the queue. Scheduling an id again replaces it (the
   * same task and spec keep their next run).
   */
  schedule(id: string, spec: ScheduleSpec, ...args: Parameters<F>): Promise<void>;
}

/**
 * Wraps a function as a background task with default options.
 *
 * @example
 * ```ts
 * // tasks.ts: only definitions; worker threads import this module
 * import { background } from "rapidai/background";
 *
 * export const resize = background({ maxRetries: 3, timeoutMs: 30_000 })(
 *   async function resize(imageId: string, width: number) {
 *     return { imageId, width };
 *   },
 * );
 * export const ping = background(function ping() {
 *   return "pong";
 * });
 * ```
 */
export function background<F extends TaskFn>(fn: F): Task<F>;
/** Returns a wrapper that makes a function a background task with these options. */
export function background(options?: BackgroundOptions): <F extends TaskFn>(fn: F) => Task<F>;
export function background(arg?: TaskFn | BackgroundOptions): any {
  // Read here, not inside the wrapper, so both call forms see the same caller.
  const caller = callerModuleUrl();
  if (typeof arg === "function") return defineTask(arg, {}, caller);
  const options = validateOptions(arg);
  return (fn: TaskFn) => {
    if (typeof fn !== "function") {
      throw jobError(ErrorCode.INVALID_OPTION, "background(options) must be applied to a function");
    }
    return defineTask(fn, options, caller);
  };
}

const OPTION_KEYS = [
  "maxRetries",
  "queue",
  "name",
  "module",
  "timeoutMs",
  "backoff",
  "concurrency",
  "rateLimit",
] as const;

function validateOptions(arg: unknown): BackgroundOptions {
  const o = objectOption("options", arg) ?? {};
  rejectUnknownKeys("", o, OPTION_KEYS);
  if (o.maxRetries !== undefined) integerOption("maxRetries", o.maxRetries, 0, 1000);
  if (o.name !== undefined) stringOption("name", o.name);
  if (o.timeoutMs !== undefined) integerOption("timeoutMs", o.timeoutMs, 1);
  if (o.module !== undefined && !(o.module instanceof URL)) stringOption("module", o.module);
  if (
    o.queue !== undefined &&
    (o.queue === null || typeof (o.queue as JobQueue).enqueue !== "function")
  ) {
    throw jobError(ErrorCode.INVALID_OPTION, "`queue` must be a JobQueue");
  }
  parseBackoff(o.backoff);
  parseConcurrency(o.concurrency);
  parseRateLimit(o.rateLimit);
  return o as BackgroundOptions;
}

function defineTask<F extends TaskFn>(
  fn: F,
  options: BackgroundOptions,
  caller: string | undefined,
): Task<F> {
  const name = options.name ?? fn.name;
  if (typeof name !== "string" || name.length === 0) {
    throw jobError(
      ErrorCode.TASK_NAME_REQUIRED,
      "background() needs a named function or a `name` option: jobs find their task by name",
    );
  }
  const def: TaskDefinition = Object.freeze({
    name,
    fn,
    moduleUrl: options.module === undefined ? caller : toModuleUrl(options.module),
    maxRetries: options.maxRetries ?? 3,
    timeoutMs: options.timeoutMs,
    backoff: parseBackoff(options.backoff),
    queue: options.queue,
    concurrency: parseConcurrency(options.concurrency),
    rateLimit: parseRateLimit(options.rateLimit),
  });
  registerTask(def);

  const queue = (): JobQueue => def.queue ?? defaultQueue();
  const enqueueWith = (opts: EnqueueOptions | undefined, args: unknown[]): Promise<string> => {
    const host = workerHost();
    if (host !== undefined) {
      // On a worker thread, a follow-up enqueue comes from a running job. With
      // no job, this is a task module's top level, run again because the
      // thread imported the module to find a task.
      if (maybeCurrentJob() === undefined) return Promise.reject(enqueueAtImport(name, def));
      return host.enqueue(name, args, opts);
    }
    return queue().enqueue(opts?.jobId ?? newJobId(), name, args, opts);
  };

  const task = ((...args: Parameters<F>) =>
    runWithJob(directContext(name), () => fn(...args))) as Task<F>;
  Object.defineProperty(task, "name", { value: name });
  Object.defineProperties(task, {
    taskName: { value: name, enumerable: true },
    queue: { get: queue, enumerable: true },
  });
  Object.assign(task, {
    enqueue: (...args: Parameters<F>) => enqueueWith(undefined, args),
    enqueueWith: (opts: EnqueueOptions, ...args: Parameters<F>) => enqueueWith(opts, args),
    withOptions: (opts: EnqueueOptions) => ({
      enqueue: (...args: Parameters<F>) => enqueueWith(opts, args),
    }),
    getResult: (jobId: string) => queue().getResult(jobId),
    cancel: (jobId: string) => queue().cancel(jobId),
    waitFor: (jobId: string, opts?: WaitOptions) => queue().waitFor(jobId, opts),
    schedule: async (id: string, spec: ScheduleSpec, ...args: Parameters<F>) =>
      scheduleMethodsOf(queue()).schedule(id, name, spec, args),
  });
  return task;
}

function enqueueAtImport(name: string, def: TaskDefinition): Error {
  const where = def.moduleUrl === undefined ? "its module" : displayModule(def.moduleUrl);
  return jobError(
    ErrorCode.ENQUEUE_AT_IMPORT,
    `${name}.enqueue() ran at the top level of a module on a worker thread: each worker thread ` +
      `imports the module that defines a task (${where}) to find it, so that module's top-level ` +
      "code runs again in every thread. Move the tasks to a module of their own that only defines " +
      "them (say tasks.js), and enqueue from the script that imports it.",
  );
}

const neverAborted = new AbortController().signal;

/** The context of a direct, in-thread call: it has an id but cannot be cancelled. */
function directContext(task: string): JobContext {
  return {
    id: `direct:${newJobId()}`,
    task,
    attempt: 1,
    signal: neverAborted,
    progress() {},
    // A direct call has no job record to keep lines in: dropped, not printed.
    log() {},
    dependencies: () => ({}),
    throwIfCancelled() {},
  };
}
