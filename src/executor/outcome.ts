import { displayModule } from "../caller-module.js";
import { ErrorCode, type SerializedError, serializeError } from "../errors.js";
import type { Attempt, AttemptOutcome } from "./attempt.js";
import { CancelFlag, isWorkerError } from "./protocol.js";
import { type MovedArgs, movedIntact } from "./thread-args.js";

// Errors that no retry can fix: the job fails at once.
const PERMANENT = new Set<string>([
  ErrorCode.UNKNOWN_TASK,
  ErrorCode.TASK_MODULE_IMPORT,
  ErrorCode.PAYLOAD_CORRUPT,
  ErrorCode.UNRECOVERABLE,
  // The same job makes the same result again.
  ErrorCode.RESULT_TOO_LARGE,
]);

/**
 * An error the job threw that says "do not retry": ours by its code, and by
 * its name an `UnrecoverableError` of another library (BullMQ has one), as
 * code moved from there keeps its meaning.
 */
function isPermanent(error: SerializedError): boolean {
  return PERMANENT.has(error.code ?? "") || error.name === "UnrecoverableError";
}

/**
 * How an attempt ended, decided in one place from what its thread said (a
 * value or an error payload) or did not say (it died: `owner` tells whether
 * the job had started, see `EngineWorkerData.owners`). `broken` records a
 * module that cannot be imported, so later jobs of it fail without a thread.
 */
export function decideOutcome(
  attempt: Attempt,
  value: unknown,
  error: unknown,
  owner: number,
  broken: (attempt: Attempt, error: SerializedError) => void,
): AttemptOutcome {
  const outcome = decide(attempt, value, error, owner, broken);
  // A retry needs the moved argument buffers back: lost with a dead thread,
  // or given away by the job, they make any retry impossible.
  if (
    attempt.moved !== undefined &&
    outcome.kind !== "ok" &&
    outcome.kind !== "cancelled" &&
    !(outcome.kind === "error" && outcome.permanent) &&
    !movedIntact(attempt.moved)
  ) {
    const why =
      outcome.kind === "error" || outcome.kind === "crashed"
        ? outcome.error
        : { name: "JobError", code: ErrorCode.TIMEOUT, message: "the job timed out" };
    return {
      kind: "error",
      permanent: true,
      error: {
        ...why,
        code: why.code ?? ErrorCode.WORKER_CRASHED,
        message: `${why.message} (not retried: the buffers moved to the job with move() did not come back, so a retry cannot see the same bytes)`,
      },
    };
  }
  return outcome;
}

function decide(
  attempt: Attempt,
  value: unknown,
  error: unknown,
  owner: number,
  broken: (attempt: Attempt, error: SerializedError) => void,
): AttemptOutcome {
  // Once asked to stop, how the job ended no longer matters: a job that
  // returns after its timeout still timed out.
  if (attempt.stop === CancelFlag.CANCELLED) return { kind: "cancelled" };
  if (attempt.stop === CancelFlag.TIMED_OUT) return { kind: "timeout" };
  if (error === undefined) return { kind: "ok", value };
  if (isWorkerError(error)) {
    const { rapidaiError: _, ...serialized } = error;
    if (serialized.code === ErrorCode.TASK_MODULE_IMPORT) broken(attempt, serialized);
    return { kind: "error", error: serialized, permanent: isPermanent(serialized) };
  }
  if (owner === 0) return { kind: "not-started" };
  const crash = serializeError(error);
  if (owner < 0) {
    // The module killed its thread while being imported (say, process.exit
    // at top level): as permanent as an import that throws, and reported once.
    const error: SerializedError = {
      name: "JobError",
      code: ErrorCode.TASK_MODULE_IMPORT,
      message: `the module of task "${attempt.task}" (${displayModule(attempt.moduleUrl)}) ended its worker thread while being imported: ${crash.message}`,
    };
    broken(attempt, error);
    return { kind: "error", error, permanent: true };
  }
  return {
    kind: "crashed",
    error: {
      name: "JobError",
      code: ErrorCode.WORKER_CRASHED,
      message: `the worker thread running the job died: ${crash.message}`,
      ...(crash.stack === undefined ? {} : { stack: crash.stack }),
    },
  };
}

/**
 * Why an attempt cannot start at all, ending at once as a permanent error
 * with no thread: its task's module is known to be broken, or the buffers
 * moved to the job are gone.
 */
export function refusal(
  spec: { moved?: MovedArgs | undefined },
  broken: SerializedError | undefined,
): SerializedError | undefined {
  if (broken !== undefined) return broken;
  if (spec.moved !== undefined && !movedIntact(spec.moved)) {
    return {
      name: "JobError",
      code: ErrorCode.PAYLOAD_CORRUPT,
      message: "the buffers moved to this job with move() are gone (detached): it cannot run again",
    };
  }
  return undefined;
}
