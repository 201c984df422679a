import type { JobResult } from "../job-result.js";
import { type JsonValue, toJsonSafe } from "./json-safe.js";

/** A JSON object as the service sends it. */
export type JsonObject = { [key: string]: JsonValue };

const iso = (d: Date | undefined): string | undefined => d?.toISOString();

/**
 * `GET /jobs/:id`: the seed's shape (`job_id`, `status`, `created_at`,
 * `attempts`, and when done `completed_at`, `duration`, `result` or
 * `error`), plus the fields a dashboard needs. `error` appears only on a
 * failed job, as in the seed; a job that is retrying (or was cancelled after
 * a failed attempt) shows its attempt's error as `last_error`. With
 * `stack`, a failed job also shows the stack of its error as `error_stack`
 * (bounded): the job's own data, for the operator who asks for it
 * (`?include=stack`), never in an answer by default, and never the
 * service's own. `duration` is null for a job that ended while pending (see
 * JobResult.duration).
 */
export function jobDetail(job: JobResult, options: { stack?: boolean } = {}): JsonObject {
  const out: JsonObject = {
    job_id: job.jobId,
    task: job.task,
    status: job.status,
    created_at: job.createdAt.toISOString(),
    attempts: job.attempts,
    max_retries: job.maxRetries,
  };
  if (job.args !== undefined) out.args = toJsonSafe(job.args);
  const started = iso(job.startedAt);
  if (started !== undefined) out.started_at = started;
  if (job.progress !== undefined) out.progress = toJsonSafe(job.progress);
  if (job.isDone) {
    out.completed_at = iso(job.completedAt) ?? null;
    out.duration = job.duration ?? null;
    if (job.status === "completed") out.result = toJsonSafe(job.result);
  }
  if (job.error !== undefined) {
    if (job.status === "failed") out.error = job.error;
    else out.last_error = job.error;
  }
  if (job.errorCode !== undefined) out.error_code = job.errorCode;
  if (options.stack === true && job.stack !== undefined && job.status === "failed") {
    out.error_stack = job.stack;
  }
  if (job.dependsOn !== undefined && job.dependsOn.length > 0) {
    out.depends_on = [...job.dependsOn];
  }
  const runAt = iso(job.runAt);
  if (runAt !== undefined && job.status === "pending") out.run_at = runAt;
  return out;
}

/**
 * One row of `GET /jobs`: the seed's three keys plus what a job table shows
 * (`null` when not yet known), and `run_at` for a pending job held back.
 */
export function jobListItem(job: JobResult): JsonObject {
  const out: JsonObject = {
    job_id: job.jobId,
    status: job.status,
    created_at: job.createdAt.toISOString(),
    task: job.task,
    attempts: job.attempts,
    started_at: iso(job.startedAt) ?? null,
    completed_at: iso(job.completedAt) ?? null,
  };
  // A delayed (or backing-off) job: when it may run, so a table can tell it from a waiting one.
  const runAt = iso(job.runAt);
  if (runAt !== undefined && job.status === "pending") out.run_at = runAt;
  return out;
}
