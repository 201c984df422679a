/**
 * The arguments of the queue's calls, checked once, before anything is
 * stored: each bad one throws a coded error naming it.
 */
import { parseDependsOn } from "./engine/dependencies.js";
import { ErrorCode, jobError } from "./errors.js";
import type { EnqueueOptions, TaskRef } from "./job-queue.js";
import { type JobStatus, parseJobStatus } from "./job-status.js";
import { parseDedupe, parseJobTimeout } from "./operation-options.js";
import {
  integerOption,
  numberOption,
  objectOption,
  rejectUnknownKeys,
  validateJobId,
} from "./validate.js";

/** Validates per-call enqueue options once, naming the bad option. */
export function parseEnqueueOptions(value: unknown): EnqueueOptions {
  const o = objectOption("enqueue options", value);
  if (o === undefined) return {};
  rejectUnknownKeys("", o, [
    "jobId",
    "delayMs",
    "priority",
    "maxRetries",
    "timeoutMs",
    "dedupe",
    "dependsOn",
  ]);
  if (o.jobId !== undefined) validateJobId(o.jobId);
  if (o.delayMs !== undefined) numberOption("delayMs", o.delayMs, 0);
  if (o.priority !== undefined) integerOption("priority", o.priority, -1_000_000, 1_000_000);
  if (o.maxRetries !== undefined) integerOption("maxRetries", o.maxRetries, 0, 1000);
  parseJobTimeout(o.timeoutMs);
  parseDedupe(o.dedupe);
  if (o.dependsOn === undefined) return o as EnqueueOptions;
  // A copy: the caller's options are never changed.
  return { ...o, dependsOn: parseDependsOn(o.dependsOn, o.jobId as string | undefined) };
}

/** Validates the arguments of `listJobs`. */
export function parseListArgs(
  status: unknown,
  options: unknown,
): { status: JobStatus | undefined; limit: number; offset: number; task: string | undefined } {
  const o = objectOption("list options", options) ?? {};
  rejectUnknownKeys("", o, ["limit", "offset", "task"]);
  return {
    status: status === undefined || status === null ? undefined : parseJobStatus(status),
    limit: o.limit === undefined ? Number.POSITIVE_INFINITY : integerOption("limit", o.limit, 0),
    offset: o.offset === undefined ? 0 : integerOption("offset", o.offset, 0),
    task: o.task === undefined ? undefined : String(o.task),
  };
}

export function taskName(task: TaskRef): string {
  const name = typeof task === "string" ? task : task?.taskName;
  if (typeof name !== "string" || name.length === 0) {
    throw jobError(
      ErrorCode.UNKNOWN_TASK,
      "enqueue needs a task name or a task made by background()",
    );
  }
  return name;
}
