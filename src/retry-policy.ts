import { type Backoff, backoffDelay } from "./backoff.js";
import { ErrorCode, type SerializedError } from "./errors.js";
import type { AttemptOutcome } from "./executor/attempt.js";

/** Where a job goes after an attempt, decided the same way by every backend. */
export type Decision =
  | { to: "completed"; result: unknown }
  | { to: "cancelled" }
  | { to: "failed"; error: SerializedError }
  | { to: "pending"; error: SerializedError; delayMs: number }
  /** Back to pending at once, the attempt not counted: it never started. */
  | { to: "requeued" };

/**
 * `attempts` counts the attempt that just ended; a job may run
 * `1 + maxRetries` times. Permanent errors (unknown task, broken module,
 * corrupt payload) fail at once: no retry could fix them.
 */
export function decide(
  outcome: AttemptOutcome,
  attempts: number,
  maxRetries: number,
  backoff: Backoff,
  timeoutMs?: number,
): Decision {
  switch (outcome.kind) {
    case "ok":
      return { to: "completed", result: outcome.value };
    case "cancelled":
      return { to: "cancelled" };
    case "error":
      if (outcome.permanent) return { to: "failed", error: outcome.error };
      return retryOrFail(outcome.error, attempts, maxRetries, backoff);
    case "timeout":
      return retryOrFail(
        {
          name: "JobError",
          code: ErrorCode.TIMEOUT,
          message: `the job timed out after ${timeoutMs ?? "?"} ms`,
        },
        attempts,
        maxRetries,
        backoff,
      );
    case "crashed":
      return retryOrFail(outcome.error, attempts, maxRetries, backoff);
    case "not-started":
      return { to: "requeued" };
  }
}

function retryOrFail(
  error: SerializedError,
  attempts: number,
  maxRetries: number,
  backoff: Backoff,
): Decision {
  if (attempts > maxRetries) return { to: "failed", error };
  return { to: "pending", error, delayMs: backoffDelay(backoff, attempts) };
}
