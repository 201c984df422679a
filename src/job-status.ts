import { ErrorCode, jobError } from "./errors.js";

/** The five states of a job, as the seed names them. */
export const JobStatus = {
  PENDING: "pending",
  RUNNING: "running",
  COMPLETED: "completed",
  FAILED: "failed",
  CANCELLED: "cancelled",
} as const;

/** `"pending" | "running" | "completed" | "failed" | "cancelled"`. */
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** Every status, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatus[] = Object.freeze([
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled",
]);

const known = new Set<string>(JOB_STATUSES);

/** True for a string that names one of the five states. */
export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === "string" && known.has(value);
}

/**
 * Parses a status string, rejecting anything else with `ERR_INVALID_STATUS`.
 * Surrounding whitespace and case are not forgiven: `"Pending"` is an error.
 *
 * @example
 * ```ts
 * // ?status=failed in a route of your own
 * const status = parseJobStatus(request.query.status); // throws ERR_INVALID_STATUS on "Failed"
 * const failed = await getQueue().listJobs(status, { limit: 50 });
 * ```
 */
export function parseJobStatus(value: unknown): JobStatus {
  if (isJobStatus(value)) return value;
  throw jobError(
    ErrorCode.INVALID_STATUS,
    `unknown job status ${JSON.stringify(value)}: expected one of ${JOB_STATUSES.join(", ")}`,
  );
}

/** True for completed, failed and cancelled: states that never change again. */
export function isTerminal(status: JobStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}
