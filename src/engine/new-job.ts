import { parseEnqueueOptions, taskName } from "../call-args.js";
import { ErrorCode, jobError } from "../errors.js";
import type { EnqueueOptions, TaskRef } from "../job-queue.js";
import { requireTask } from "../registry.js";
import { enqueueSpan, type TraceBackend } from "../tracing.js";
import { validateJobId } from "../validate.js";
import type { ScheduledJob } from "./scheduler.js";
import type { JobStore, NewJob } from "./store.js";

/**
 * A job as the store takes it, every option checked and its arguments
 * encoded the store's way: a job that fails here stores nothing (and in a
 * batch, neither does any other).
 */
export function prepareJob(
  store: JobStore,
  jobId: string,
  task: TaskRef,
  args: unknown[],
  options?: EnqueueOptions,
): NewJob {
  const def = requireTask(taskName(task));
  const opts = options === undefined ? undefined : parseEnqueueOptions(options);
  validateJobId(jobId);
  if (!Array.isArray(args)) throw jobError(ErrorCode.INVALID_OPTION, "`args` must be an array");
  return {
    id: jobId,
    task: def,
    args: store.encodeArgs(args),
    maxRetries: opts?.maxRetries ?? def.maxRetries,
    priority: opts?.priority ?? 0,
    delayMs: Math.ceil(opts?.delayMs ?? 0),
    timeoutMs: opts?.timeoutMs,
    dedupe:
      opts?.dedupe === undefined
        ? undefined
        : { key: opts.dedupe.key, ttlMs: opts.dedupe.ttlMs ?? 0 },
    dependsOn: dependsOnOf(jobId, opts?.dependsOn),
  };
}

/** The job of one schedule firing: the task's defaults, the schedule's arguments. */
export function scheduledJob(store: JobStore, job: ScheduledJob): NewJob {
  const def = requireTask(job.task);
  return {
    id: job.jobId,
    task: def,
    args: store.encodeArgs(store.schedules.decodeArgs(job.args)),
    maxRetries: def.maxRetries,
    priority: 0,
    delayMs: 0,
    timeoutMs: undefined,
    dedupe: undefined,
    dependsOn: undefined,
  };
}

function dependsOnOf(jobId: string, ids: string[] | undefined): string[] | undefined {
  if (ids === undefined || ids.length === 0) return undefined;
  if (ids.includes(jobId)) {
    throw jobError(ErrorCode.INVALID_OPTION, `\`dependsOn\` names the job itself (${jobId})`);
  }
  return ids;
}

/**
 * Stores jobs, each within its enqueue span (OpenTelemetry): the span's
 * context goes with the job, and the span ends once the store answered.
 */
export async function insertTraced(
  store: JobStore,
  jobs: NewJob[],
  backend: TraceBackend,
): Promise<string[]> {
  const spans = jobs.map((job) => {
    const span = enqueueSpan({ task: job.task.name, jobId: job.id, backend });
    if (span.carrier !== undefined) job.trace = span.carrier;
    return span;
  });
  try {
    const ids = await store.insert(jobs);
    for (const span of spans) span.end();
    return ids;
  } catch (error) {
    for (const span of spans) span.end(error);
    throw error;
  }
}
