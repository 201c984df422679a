import { ErrorCode } from "../errors.js";
import type { AttemptOutcome } from "../executor/attempt.js";
import { decide } from "../retry-policy.js";
import type { TaskDefinition } from "../task-definition.js";
import type { AttemptEnd } from "../tracing.js";
import type { ClaimedJob, Ending } from "./store.js";

/**
 * The one decision after an attempt: what the executor saw (`outcome`)
 * becomes where the job goes next (`Ending`), the same for every store.
 */
export function endingOf(
  job: ClaimedJob,
  def: TaskDefinition,
  outcome: AttemptOutcome,
  durationMs: number,
  timeoutMs: number | undefined,
): Ending {
  const decision = decide(outcome, job.attempt, job.maxRetries, def.backoff, timeoutMs);
  switch (decision.to) {
    case "completed":
      return { job, kind: "completed", result: decision.result, durationMs };
    case "cancelled":
      return { job, kind: "cancelled", durationMs };
    case "failed":
      return { job, kind: "failed", error: decision.error, durationMs };
    case "pending":
      return {
        job,
        kind: "retry",
        error: decision.error,
        delayMs: Math.ceil(decision.delayMs),
        durationMs,
      };
    case "requeued":
      return { job, kind: "requeued" };
  }
}

/** How an attempt's span ends, from its ending. */
export function spanEnd(e: Ending): AttemptEnd {
  switch (e.kind) {
    case "completed":
      return { outcome: "completed" };
    case "failed":
      return { outcome: "failed", error: e.error };
    case "retry":
      return { outcome: "retrying", error: e.error };
    case "cancelled":
      return { outcome: "cancelled" };
    case "requeued":
      return { outcome: "retrying" };
  }
}

/** A job whose task no process here registered: it fails at once, and nothing is imported. */
export function unknownTaskEnding(job: ClaimedJob): Ending {
  return {
    job,
    kind: "failed",
    error: {
      name: "JobError",
      code: ErrorCode.UNKNOWN_TASK,
      message: `unknown task "${job.task}": no task of that name is registered in this worker`,
    },
    durationMs: undefined,
  };
}
