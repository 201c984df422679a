import type { ChangeSink } from "../engine/change-sink.js";
import type { QueueLogger } from "../engine/queue-options.js";
import { ErrorCode, jobError } from "../errors.js";
import { isConnectionError, redisErrorCode } from "./backend-errors.js";
import { redactUrl } from "./connection.js";
import type { RedisLink } from "./redis-link.js";

/**
 * Which problems of a Redis queue are news, said once each: Redis
 * unreachable (once until it is back, then how long it was away), a coded
 * refusal (full, wrong type…) or anything else at most every 30 s, so a
 * problem that repeats at every poll does not flood the log.
 */
export class ProblemLog {
  readonly #logger: QueueLogger;
  readonly #link: RedisLink;
  readonly #sink: ChangeSink;
  #downSince = 0;
  #connected = false;
  readonly #startedAt = Date.now();
  #lastProblem = "";
  #lastProblemAt = 0;

  constructor(logger: QueueLogger, link: RedisLink, sink: ChangeSink) {
    this.#logger = logger;
    this.#link = link;
    this.#sink = sink;
  }

  /** A connection became ready. */
  connected(): void {
    this.#connected = true;
    if (this.#downSince > 0) {
      this.#logger.warn(
        `rapidai: reconnected to Redis after ${Math.round((Date.now() - this.#downSince) / 1000)} s`,
        { code: "BACKEND_RECONNECTED" },
      );
      this.#downSince = 0;
    }
  }

  report(what: string, error: unknown): void {
    const logger = this.#logger;
    // Refused credentials were reported once, when Redis refused them.
    if (this.#link.refused !== undefined) return;
    const code = redisErrorCode(error);
    if (code !== undefined) {
      const coded = this.#link.coded(error);
      if (this.#news(coded.message)) {
        const full =
          code === ErrorCode.BACKEND_FULL
            ? "; finished jobs are kept and written once Redis has room, and no job is claimed meanwhile"
            : "";
        logger.warn(`rapidai: ${what}: ${coded.message}${full}`, { code });
        this.#sink.error(jobError(code, `${what}: ${coded.message}`, error));
      }
      return;
    }
    if (isConnectionError(error)) {
      // Before the first ready connection, and for the first 2 s, connection
      // errors are the connection still being made, not news.
      if (this.#downSince === 0 && (this.#connected || Date.now() - this.#startedAt > 2_000)) {
        this.#downSince = Date.now();
        logger.warn(
          `rapidai: Redis unreachable while ${what} (${(error as Error)?.message ?? error}); retrying`,
          { code: "BACKEND_UNREACHABLE" },
        );
      }
      return;
    }
    const e = error instanceof Error ? error : new Error(String(error));
    if (!this.#news(e.message)) return;
    logger.warn(`rapidai: ${what}: ${e.message}`, { code: "QUEUE_PROBLEM" });
    this.#sink.error(new Error(`${what}: ${e.message}`, { cause: e }));
  }

  /** False for a problem already reported in the last 30 s. */
  #news(message: string): boolean {
    const now = Date.now();
    if (message === this.#lastProblem && now - this.#lastProblemAt < 30_000) return false;
    this.#lastProblem = message;
    this.#lastProblemAt = now;
    return true;
  }
}

/** Credentials Redis refuses are final: said once, loudly, with what to do. */
export function warnCredentialsRefused(logger: QueueLogger, url: string, error: Error): void {
  logger.warn(
    `rapidai: Redis at ${redactUrl(url)} refused the credentials (${(error.cause as Error)?.message ?? error.message}): ` +
      "this queue stops using Redis (no claims, no retries); fix the user or password in the URL and start it again",
    { code: "ERR_BACKEND_AUTH" },
  );
}
