import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, JobError } from "../errors.js";
import { refuseUnauthorized, type TokenCheck } from "./auth.js";

/**
 * HTTP status of each JobError code a request can cause; anything else is a
 * 500, which means a bug. A backend that is down, failing over (`READONLY`
 * from a demoted master), short of a replica's acknowledgement or full is
 * 503 with `Retry-After`: the same request can succeed in a moment. A
 * backend the service is misconfigured for (a cluster node given as one
 * server, an untagged prefix, an ACL that denies the queue's commands) is
 * 502: retrying cannot help until an operator changes the deployment.
 */
const STATUS_OF_CODE: Partial<Record<string, number>> = {
  [ErrorCode.UNKNOWN_TASK]: 404,
  [ErrorCode.JOB_NOT_FOUND]: 404,
  [ErrorCode.INVALID_OPTION]: 400,
  [ErrorCode.INVALID_JOB_ID]: 400,
  [ErrorCode.INVALID_STATUS]: 400,
  [ErrorCode.ARGUMENT_NOT_CLONEABLE]: 400,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 400,
  [ErrorCode.QUEUE_CLOSED]: 503,
  [ErrorCode.BACKEND_UNAVAILABLE]: 503,
  [ErrorCode.REDIS_READONLY]: 503,
  [ErrorCode.REPLICATION_TIMEOUT]: 503,
  // Redis is full or refuses the service's credentials: not the client's fault, and not for good.
  [ErrorCode.BACKEND_FULL]: 503,
  [ErrorCode.BACKEND_AUTH]: 503,
  [ErrorCode.REDIS_MOVED]: 502,
  [ErrorCode.REDIS_CROSSSLOT]: 502,
  [ErrorCode.REDIS_NOPERM]: 502,
};

/**
 * Seconds a client should wait before trying again (`Retry-After`), for the
 * codes that heal by themselves. A Sentinel or cluster failover takes a few
 * seconds (the failure detection time plus the election).
 */
const RETRY_AFTER_SECONDS: Partial<Record<string, number>> = {
  [ErrorCode.QUEUE_CLOSED]: 5,
  [ErrorCode.BACKEND_UNAVAILABLE]: 2,
  [ErrorCode.REDIS_READONLY]: 2,
  [ErrorCode.REPLICATION_TIMEOUT]: 2,
  [ErrorCode.BACKEND_FULL]: 5,
};

/** What a client is told of a server-side JobError (the detail is logged only). */
const SERVER_MESSAGES: Partial<Record<string, string>> = {
  [ErrorCode.QUEUE_CLOSED]: "The service is shutting down",
  [ErrorCode.BACKEND_FULL]: "Queue backend is out of memory",
  [ErrorCode.BACKEND_AUTH]: "Queue backend refused the service's credentials",
  [ErrorCode.REDIS_READONLY]: "Queue backend is failing over",
  [ErrorCode.REPLICATION_TIMEOUT]:
    "Queue backend did not replicate the job in time: it may be stored; retry with the same job id",
  [ErrorCode.REDIS_MOVED]: "Queue backend is misconfigured (see the service's log)",
  [ErrorCode.REDIS_CROSSSLOT]: "Queue backend is misconfigured (see the service's log)",
  [ErrorCode.REDIS_NOPERM]: "Queue backend denies the service's commands (see the service's log)",
};

/** Fastify's own request errors, with the message a client should see. */
const FASTIFY_MESSAGES: Partial<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "Malformed JSON body",
  FST_ERR_CTP_EMPTY_JSON_BODY: "Empty JSON body",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "Unsupported Content-Type: send application/json",
};

/** What a client is told about a URL Fastify refuses before routing; never the URL itself. */
const URL_ERRORS: Partial<Record<string, { status: number; error: string }>> = {
  FST_ERR_BAD_URL: { status: 400, error: "Malformed URL: bad percent-encoding" },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, error: "Path too long" },
};

/**
 * Fastify's `frameworkErrors`: a URL it cannot decode, or a path segment
 * over `maxParamLength`, is refused before any hook runs, so the token
 * check is made here too, and the answer has the service's shape instead
 * of Fastify's default one, which echoes the URL (with a `?token=` in it).
 */
export function frameworkErrorHandler(
  check: TokenCheck | undefined,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    // onSend hooks do not run for these answers.
    reply.header("x-content-type-options", "nosniff");
    const refused = check?.(request);
    if (refused !== undefined) {
      refuseUnauthorized(reply, refused);
      return;
    }
    const known = URL_ERRORS[error.code] ?? { status: 400, error: "Bad request" };
    reply.code(known.status).send({ error: known.error });
  };
}

/**
 * Every error answer is `{"error": message}` (plus `code` for a JobError).
 * A response never carries a stack trace or the text of an unexpected
 * error, which may hold paths or secrets: those are logged here and the
 * client gets a bare 500.
 */
export function installErrorHandler(
  app: FastifyInstance,
  bodyLimit: number,
  logError: (message: string, error: unknown) => void,
): void {
  app.setErrorHandler((error: FastifyError | JobError | Error, request, reply) => {
    if (error instanceof JobError) {
      const status = STATUS_OF_CODE[error.code];
      if (status !== undefined && status < 500) {
        return reply.code(status).send({ error: error.message, code: error.code });
      }
      if (status !== undefined) {
        // The message may name internal hosts: the client gets the code only.
        logError(`${request.method} ${request.url.split("?")[0]} failed`, error);
        const message = SERVER_MESSAGES[error.code] ?? "Queue backend unavailable";
        const retryAfter = RETRY_AFTER_SECONDS[error.code];
        if (retryAfter !== undefined) reply.header("retry-after", String(retryAfter));
        return reply.code(status).send({ error: message, code: error.code });
      }
    } else {
      const fe = error as FastifyError;
      if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
        return reply.code(413).send({ error: `Request body is larger than ${bodyLimit} bytes` });
      }
      const known = fe.code === undefined ? undefined : FASTIFY_MESSAGES[fe.code];
      if (known !== undefined) return reply.code(fe.statusCode ?? 400).send({ error: known });
      // Other client errors raised by Fastify itself carry safe, fixed messages.
      if (
        typeof fe.code === "string" &&
        fe.code.startsWith("FST_") &&
        typeof fe.statusCode === "number" &&
        fe.statusCode >= 400 &&
        fe.statusCode < 500
      ) {
        return reply.code(fe.statusCode).send({ error: fe.message });
      }
    }
    // The path only: a query string may hold the access token.
    logError(`${request.method} ${request.url.split("?")[0]} failed`, error);
    return reply.code(500).send({ error: "Internal server error" });
  });

  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send({ error: "Not found" });
  });
}
