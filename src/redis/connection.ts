import { createRequire } from "node:module";
import type { ConnectionOptions } from "node:tls";
import type { Redis, RedisOptions } from "ioredis";

// ioredis loads at the first connection, not at import: every worker thread
// imports this package (through the task modules it runs), and a thread
// never talks to Redis, so it should not pay ~40 ms to load a client.
const require = createRequire(import.meta.url);
let RedisClient: typeof Redis | undefined;

import { ErrorCode, JobError, jobError } from "../errors.js";

/** How to reach Redis, as validated from the queue's options. */
export interface ConnectionSettings {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS. */
  url: string;
  /** Extra TLS options (a private CA, a client certificate) for `rediss://`. */
  tls: ConnectionOptions | undefined;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

/**
 * Checks a Redis URL without connecting: only `redis:` and `rediss:` URLs
 * with a host are accepted.
 */
export function validateRedisUrl(value: unknown): string {
  let parsed: URL | undefined;
  try {
    if (typeof value === "string") parsed = new URL(value);
  } catch {}
  if (
    parsed === undefined ||
    (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") ||
    !parsed.hostname
  ) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`url\` must be a redis:// or rediss:// URL with a host (got ${JSON.stringify(redactUrl(String(value)))})`,
    );
  }
  if (parsed.pathname.length > 1 && !/^\/\d+$/.test(parsed.pathname)) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "`url` path must be a database number, e.g. redis://host:6379/0",
    );
  }
  return value as string;
}

/** The URL with any password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, "//$1:***@");
}

/**
 * The ioredis options for one connection. `rediss:` turns on TLS (with the
 * server name checked against the URL's host); user and password come from
 * the URL (Redis 6 ACL users). Connections never queue commands while
 * disconnected: a caller learns at once that Redis is unavailable instead of
 * waiting on a queue that may never drain.
 */
export function connectionOptions(settings: ConnectionSettings, name: string): RedisOptions {
  const u = new URL(settings.url);
  const options: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port === "" ? 6379 : Number(u.port),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    enableAutoPipelining: true,
    // Reconnect for ever, backing off to one attempt every 2 s.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  if (u.username !== "") options.username = decodeURIComponent(u.username);
  if (u.password !== "") options.password = decodeURIComponent(u.password);
  if (u.protocol === "rediss:") options.tls = { servername: options.host!, ...settings.tls };
  return options;
}

/** A lazily connecting client; call {@link ensureConnected} before use. */
export function createClient(settings: ConnectionSettings, name: string): Redis {
  RedisClient ??= (require("ioredis") as typeof import("ioredis")).Redis;
  const client = new RedisClient(connectionOptions(settings, name));
  // Errors surface through the calls that fail; the client's own event would
  // otherwise be an unhandled 'error' and end the process.
  client.on("error", () => {});
  return client;
}

/**
 * Resolves once the client is ready, or rejects with
 * `ERR_BACKEND_UNAVAILABLE` after `timeoutMs` (or when the first attempt is
 * refused). Reconnection keeps going in the background.
 */
export async function ensureConnected(
  client: Redis,
  settings: ConnectionSettings,
  timeoutMs: number,
): Promise<void> {
  if (client.status === "ready") return;
  if (client.status === "wait") client.connect().catch(() => {});
  // One shared wait per client: many calls at once add one listener set, not many.
  let ready = readiness.get(client);
  if (ready === undefined) {
    ready = new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        client.off("ready", onReady);
        client.off("error", onError);
        client.off("end", onEnd);
        readiness.delete(client);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => done();
      const onError = (error: unknown) => {
        // Authentication and permission errors will not heal by waiting.
        if (
          /NOAUTH|WRONGPASS|NOPERM|invalid password|certificate|self.signed|TLS/i.test(
            String(error),
          )
        )
          done(error);
      };
      const onEnd = () => done(new Error("the connection was closed"));
      client.on("ready", onReady);
      client.on("error", onError);
      client.on("end", onEnd);
    });
    ready.catch(() => {});
    readiness.set(client, ready);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    throw backendError(settings, error);
  } finally {
    clearTimeout(timer);
  }
}

const readiness = new WeakMap<Redis, Promise<void>>();

/**
 * The coded error of a Redis failure, by what Redis said: out of memory
 * (`ERR_BACKEND_FULL`), credentials or permissions refused
 * (`ERR_BACKEND_AUTH`), a key of the wrong type (`ERR_BACKEND_CORRUPT`),
 * and anything else, which means it could not be reached or answer
 * (`ERR_BACKEND_UNAVAILABLE`). A JobError passes through.
 */
export function backendError(settings: ConnectionSettings, error: unknown): JobError {
  if (error instanceof JobError) return error;
  const message = (error as Error)?.message ?? String(error);
  const at = `Redis at ${redactUrl(settings.url)}`;
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
  if (isCredentialsRefusal(error) || /\bNOPERM\b/.test(message)) return ErrorCode.BACKEND_AUTH;
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
  if (e instanceof JobError) return e.code === ErrorCode.BACKEND_UNAVAILABLE;
  if (e.name === "ReplyError")
    return /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)/.test(e.message ?? "");
  if (e.name === "MaxRetriesPerRequestError") return true;
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return true;
  return /Connection is closed|Stream isn't writeable|Command timed out|connect|socket|closed/i.test(
    e.message ?? "",
  );
}
