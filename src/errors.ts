/**
 * Every error the engine raises, with its stable `code`. One table, so a test
 * can check each code, name and message, and so callers can branch on `code`
 * without parsing messages.
 */

/**
 * Codes carried by {@link JobError}. Stable: safe to compare against.
 *
 * @example
 * ```ts
 * try {
 *   await resize.waitFor(id, { timeoutMs: 5_000 });
 * } catch (error) {
 *   if (error instanceof JobError && error.code === ErrorCode.TIMEOUT) console.log("still running");
 *   else throw error;
 * }
 * ```
 */
export const ErrorCode = {
  /** A job id the queue does not know (e.g. `waitFor` on an id never enqueued). */
  JOB_NOT_FOUND: "ERR_JOB_NOT_FOUND",
  /** A task name that no `background()` call registered. */
  UNKNOWN_TASK: "ERR_UNKNOWN_TASK",
  /** Two different modules registered the same task name. */
  DUPLICATE_TASK: "ERR_DUPLICATE_TASK",
  /** `background()` got an anonymous function and no `name`. */
  TASK_NAME_REQUIRED: "ERR_TASK_NAME_REQUIRED",
  /** An option is outside its allowed range or of the wrong type. */
  INVALID_OPTION: "ERR_INVALID_OPTION",
  /** A job argument cannot be structured-cloned. */
  ARGUMENT_NOT_CLONEABLE: "ERR_ARGUMENT_NOT_CLONEABLE",
  /** A job returned a value that cannot be structured-cloned back to the main thread. */
  RESULT_NOT_CLONEABLE: "ERR_RESULT_NOT_CLONEABLE",
  /** A job's encoded result is over the queue's `maxResultBytes` (it is not stored). */
  RESULT_TOO_LARGE: "ERR_RESULT_TOO_LARGE",
  /** The serialized arguments exceed the queue's payload limit. */
  PAYLOAD_TOO_LARGE: "ERR_PAYLOAD_TOO_LARGE",
  /** A job id that is empty, too long or holds forbidden characters. */
  INVALID_JOB_ID: "ERR_INVALID_JOB_ID",
  /** A status string that is not one of the five job states. */
  INVALID_STATUS: "ERR_INVALID_STATUS",
  /** An attempt ran longer than the task's `timeoutMs`. */
  TIMEOUT: "ERR_JOB_TIMEOUT",
  /** The job was cancelled. */
  CANCELLED: "ERR_JOB_CANCELLED",
  /** `enqueue` (or another write) on a queue that was closed. */
  QUEUE_CLOSED: "ERR_QUEUE_CLOSED",
  /** `getQueue()` asked for a different backend or options than the existing default. */
  QUEUE_CONFLICT: "ERR_QUEUE_CONFLICT",
  /** The backend (Redis) cannot be reached. */
  BACKEND_UNAVAILABLE: "ERR_BACKEND_UNAVAILABLE",
  /** Redis is out of memory (`maxmemory` reached under `noeviction`): it refuses writes until it has room. */
  BACKEND_FULL: "ERR_BACKEND_FULL",
  /** Redis refused the credentials (wrong user or password) or the ACL denies a command or key. */
  BACKEND_AUTH: "ERR_BACKEND_AUTH",
  /** A key of the queue holds another type of value (`WRONGTYPE`): something else wrote it. */
  BACKEND_CORRUPT: "ERR_BACKEND_CORRUPT",
  /** The worker thread running the attempt died (exit, out of memory, crash). */
  WORKER_CRASHED: "ERR_WORKER_CRASHED",
  /** The module that defines a task could not be imported in a worker thread. */
  TASK_MODULE_IMPORT: "ERR_TASK_MODULE_IMPORT",
  /** A stored payload could not be decoded. */
  PAYLOAD_CORRUPT: "ERR_PAYLOAD_CORRUPT",
  /** The job's lease expired and no retry was left. */
  LEASE_EXPIRED: "ERR_LEASE_EXPIRED",
  /** A call that only makes sense in some context (e.g. `currentJob()` outside a job). */
  NO_CURRENT_JOB: "ERR_NO_CURRENT_JOB",
  /** An illegal state transition was attempted (a bug, or a lost race). */
  ILLEGAL_TRANSITION: "ERR_ILLEGAL_TRANSITION",
  /** A queue with `process: false` was asked to run jobs. */
  NOT_A_WORKER: "ERR_NOT_A_WORKER",
  /** A job listed in `dependsOn` ended failed or cancelled, so the dependent job never runs. */
  DEPENDENCY_FAILED: "ERR_DEPENDENCY_FAILED",
  /** `dependsOn` names a job id the queue does not know (nothing is stored). */
  DEPENDENCY_NOT_FOUND: "ERR_DEPENDENCY_NOT_FOUND",
  /**
   * `task.enqueue()` ran outside any job on a worker thread: top-level code of
   * a task module (a one-file script that defines tasks and enqueues them).
   */
  ENQUEUE_AT_IMPORT: "ERR_ENQUEUE_AT_IMPORT",
  /** A job threw {@link UnrecoverableError}: it fails at once, with no retry. */
  UNRECOVERABLE: "ERR_UNRECOVERABLE",
  /**
   * Redis answered `MOVED`/`ASK`: `url` names one node of a Redis Cluster and
   * another node serves the queue's slot. Permanent: connect with the
   * `cluster` option.
   */
  REDIS_MOVED: "ERR_REDIS_MOVED",
  /**
   * Redis answered `CROSSSLOT`: the queue's keys fall in several Redis
   * Cluster slots. Permanent: give the prefix a `{hash tag}`.
   */
  REDIS_CROSSSLOT: "ERR_REDIS_CROSSSLOT",
  /**
   * Redis answered `READONLY`: the server is a replica (a demoted master
   * after a failover). With `sentinels` or `cluster` the client finds the
   * current master on its own; with a plain `url` point it at the master.
   */
  REDIS_READONLY: "ERR_REDIS_READONLY",
  /** Redis answered `NOPERM`: the ACL user may not run a command or touch a key. Permanent. */
  REDIS_NOPERM: "ERR_REDIS_NOPERM",
  /**
   * `durability: "replicated"`: no replica acknowledged the write in time, so
   * the enqueue is not acknowledged (the job may still be stored on the master).
   */
  REPLICATION_TIMEOUT: "ERR_REPLICATION_TIMEOUT",
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of every error this package throws. */
export class RapidAIException extends Error {
  override name = "RapidAIException";
}

/**
 * A background-job error, with a stable {@link ErrorCode} in `code`.
 *
 * @example
 * ```ts
 * try {
 *   background({ maxRetries: -1 })(function bad() {});
 * } catch (error) {
 *   if (error instanceof JobError) console.log(error.code); // "ERR_INVALID_OPTION"
 * }
 * ```
 */
export class JobError extends RapidAIException {
  override name = "JobError";
  readonly code: ErrorCodeValue;

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Thrown inside a job to say that no retry can help (bad input, a refused
 * account): the attempt fails at once, whatever retries are left. It crosses
 * the thread boundary as data, recognised by its `code`, so a subclass or an
 * error of another copy of this package counts as well.
 *
 * ```ts
 * if (!isImage(bytes)) throw new UnrecoverableError("not an image");
 * ```
 */
export class UnrecoverableError extends Error {
  override name = "UnrecoverableError";
  /** Always {@link ErrorCode.UNRECOVERABLE}. */
  readonly code: typeof ErrorCode.UNRECOVERABLE = ErrorCode.UNRECOVERABLE;
}

/** Shorthand used across the code base: `jobError(ErrorCode.X, "...")`. */
export function jobError(code: ErrorCodeValue, message: string, cause?: unknown): JobError {
  return new JobError(code, message, cause === undefined ? undefined : { cause });
}

/** The shape an error takes when it crosses a thread or a process boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/**
 * How much of a stack a failed job keeps: at most this many frames and
 * characters. Stacks ride on the failure path only, but an error built in a
 * deep recursion (or with a raised `Error.stackTraceLimit`) must not make
 * every stored failure megabytes long.
 */
export const STACK_LIMITS = {
  /** Frames (`    at …` lines) kept. @default 50 */
  frames: 50,
  /** Characters kept, the cut marker included. @default 8192 */
  chars: 8192,
} as const;

const FRAME = /^\s+at\s/;

/**
 * A stack cut to {@link STACK_LIMITS}, at a line boundary where it can be,
 * with a last line saying what was left out.
 */
export function boundStack(stack: string): string {
  if (
    stack.length <= STACK_LIMITS.chars &&
    stack.split("\n", STACK_LIMITS.frames + 2).length <= STACK_LIMITS.frames + 1
  ) {
    return stack;
  }
  const lines = stack.split("\n");
  const kept: string[] = [];
  // Room for the marker line, whose numbers are at most 7 digits each.
  const budget = STACK_LIMITS.chars - 64;
  let size = 0;
  let frames = 0;
  for (const line of lines) {
    const frame = FRAME.test(line);
    if (frame && frames === STACK_LIMITS.frames) break;
    if (size + line.length + 1 > budget) {
      // A header (the message) longer than the budget is cut inside the line.
      if (kept.length === 0) kept.push(line.slice(0, budget));
      break;
    }
    kept.push(line);
    size += line.length + 1;
    if (frame) frames++;
  }
  const left = lines.length - kept.length;
  return left === 0 ? kept.join("\n") : `${kept.join("\n")}\n    … (${left} more lines cut)`;
}

/**
 * Keeps name, message, stack and code, which structured clone would drop or
 * mangle. The stack is bounded here ({@link boundStack}), where a job's error
 * leaves its thread, so no longer one is ever sent or stored.
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (typeof error.stack === "string") out.stack = boundStack(error.stack);
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") out.code = code;
    return out;
  }
  if (error !== null && typeof error === "object" && "message" in error) {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
    const out: SerializedError = {
      name: typeof e.name === "string" ? e.name : "Error",
      message: String(e.message),
    };
    if (typeof e.stack === "string") out.stack = boundStack(e.stack);
    if (typeof e.code === "string") out.code = e.code;
    return out;
  }
  return { name: "Error", message: describeThrown(error) };
}

/** Longest text kept of a thrown value that is not an Error. */
const MAX_THROWN_CHARS = 2000;

/**
 * A readable message for a thrown value that is not an Error: a string as
 * it is, a plain object or array as JSON (`String()` would say
 * "[object Object]"), `undefined` and `null` in a sentence.
 */
function describeThrown(value: unknown): string {
  if (value === undefined || value === null) return `the job threw ${value}, not an Error`;
  if (typeof value !== "object") return String(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
  } catch {
    // A cycle: fall back to the value's own string.
  }
  text ??= String(value);
  return text.length <= MAX_THROWN_CHARS ? text : `${text.slice(0, MAX_THROWN_CHARS)}…`;
}

/**
 * The one-line `error` stored on a failed job: the error's message alone,
 * or its name when the message is empty. The name is in the stack's first
 * line (`TypeError: not a number`), the code in `errorCode`; see
 * docs/errors.md.
 */
export function errorMessage(error: SerializedError): string {
  return error.message === "" ? error.name : error.message;
}
