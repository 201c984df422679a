import { ErrorCode, jobError } from "./errors.js";
import type { JobStatus } from "./job-status.js";

/**
 * The legal transitions of a job, the one place that defines them. The memory
 * backend enforces this table on every change; the Redis Lua scripts get it
 * at build time (scripts/embed-lua.mjs generates their `LEGAL` table from
 * this literal, so keep it a plain object of string arrays), and a test
 * checks that the two agree.
 *
 * - `pending → running`: a worker claimed the job.
 * - `running → pending`: the attempt failed (or its lease expired) and a retry is scheduled.
 * - `running → completed | failed | cancelled`: the attempt ended.
 * - `pending → cancelled`: cancelled before it ran.
 * - `pending → failed`: the job can never run (unknown task, corrupt payload).
 * - `failed → pending`, `cancelled → pending`: ONLY through `queue.retry(id)`,
 *   an operator's decision. No attempt outcome, lease expiry or cancel may
 *   take these: a backend applies them in its retry operation alone (with
 *   Redis, the retry script is the only caller of `move()` from a finished
 *   state). `completed` never leaves.
 */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = Object.freeze({
  pending: Object.freeze(["running", "cancelled", "failed"] as const),
  running: Object.freeze(["pending", "completed", "failed", "cancelled"] as const),
  completed: Object.freeze([] as const),
  failed: Object.freeze(["pending"] as const),
  cancelled: Object.freeze(["pending"] as const),
});

/** True when `from → to` is a legal transition. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return (TRANSITIONS[from] as readonly JobStatus[]).includes(to);
}

/** Throws `ERR_ILLEGAL_TRANSITION` unless `from → to` is legal. */
export function assertTransition(jobId: string, from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) {
    throw jobError(
      ErrorCode.ILLEGAL_TRANSITION,
      `job ${jobId}: illegal transition ${from} → ${to}`,
    );
  }
}
