import { ErrorCode, JobError, jobError } from "../errors.js";
import { type ConnectionSettings, describeTarget } from "./connection.js";
import { deploymentError } from "./redis-errors.js";

// How a failure of the Redis client reads as one of the backend's coded
// errors: what Redis said decides the code, whatever the call was.

/**
 * The coded error of a Redis failure, by what Redis said: the replies that
 * say what is wrong with the deployment (`MOVED`, `CROSSSLOT`, `READONLY`,
 * `NOPERM`: their own codes, the message naming the fix), out of memory
 * (`ERR_BACKEND_FULL`), credentials refused (`ERR_BACKEND_AUTH`), a key of
 * the wrong type (`ERR_BACKEND_CORRUPT`), and anything else, which means it
 * could not be reached or answer (`ERR_BACKEND_UNAVAILABLE`). A JobError
 * passes through.
 */
export function backendError(settings: ConnectionSettings, error: unknown): JobError {
  if (error instanceof JobError) return error;
  const message = (error as Error)?.message ?? String(error);
  const at = describeTarget(settings);
  const deployment = deploymentError(
    at,
    settings.cluster !== undefined
      ? "cluster"
      : settings.sentinels !== undefined
        ? "sentinel"
        : "single",
    error,
  );
  if (deployment !== undefined) return deployment;
  switch (redisErrorCode(error)) {
    case ErrorCode.BACKEND_FULL:
      return jobError(
        ErrorCode.BACKEND_FULL,
        `${at} is out of memory (maxmemory reached): it refuses writes until it has room (${message})`,
        error,
      );
    case ErrorCode.BACKEND_AUTH:
      return jobError(ErrorCode.BACKEND_AUTH, `${at} refused the credentials: ${message}`, error);
    case ErrorCode.BACKEND_CORRUPT:
      return jobError(
        ErrorCode.BACKEND_CORRUPT,
        `${at} holds a key of the wrong type for this queue (written by something else?): ${message}`,
        error,
      );
    default:
      return jobError(ErrorCode.BACKEND_UNAVAILABLE, `${at} is unavailable: ${message}`, error);
  }
}

/**
 * The code of a Redis reply that is not about reaching Redis: out of
 * memory, refused credentials or permissions, wrong type. Undefined for
 * anything else (unreachable, or not a Redis error at all).
 */
export function redisErrorCode(
  error: unknown,
):
  | typeof ErrorCode.BACKEND_FULL
  | typeof ErrorCode.BACKEND_AUTH
  | typeof ErrorCode.BACKEND_CORRUPT
  | undefined {
  if (error instanceof JobError) {
    const c = error.code;
    return c === ErrorCode.BACKEND_FULL ||
      c === ErrorCode.BACKEND_AUTH ||
      c === ErrorCode.BACKEND_CORRUPT
      ? c
      : undefined;
  }
  const message = (error as Error | undefined)?.message ?? "";
  if (/\bOOM command not allowed/.test(message)) return ErrorCode.BACKEND_FULL;
  if (isCredentialsRefusal(error)) return ErrorCode.BACKEND_AUTH;
  if (/\bWRONGTYPE\b/.test(message)) return ErrorCode.BACKEND_CORRUPT;
  return undefined;
}

/** True when Redis refused to log in: waiting or reconnecting cannot help. */
export function isCredentialsRefusal(error: unknown): boolean {
  const message = (error as Error | undefined)?.message ?? String(error);
  return /\b(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i.test(message);
}

/** True for errors that mean "Redis could not be reached", not "the command was wrong". */
export function isConnectionError(error: unknown): boolean {
  const e = error as { message?: string; code?: string; name?: string } | undefined;
  if (e === undefined || e === null) return false;
  if (e instanceof JobError)
    return e.code === ErrorCode.BACKEND_UNAVAILABLE || e.code === ErrorCode.REDIS_READONLY;
  if (e.name === "ReplyError")
    return /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)/.test(e.message ?? "");
  if (e.name === "MaxRetriesPerRequestError" || e.name === "ClusterAllFailedError") return true;
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return true;
  return /Connection is closed|Stream isn't writeable|Command timed out|connect|socket|closed|refresh slots|Failed to refresh/i.test(
    e.message ?? "",
  );
}
