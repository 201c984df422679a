import { createRequire } from "node:module";
import type { ConnectionOptions } from "node:tls";
import type { Cluster, ClusterOptions, Redis, RedisOptions, SentinelAddress } from "ioredis";

// ioredis loads at the first connection, not at import: every worker thread
// imports this package (through the task modules it runs), and a thread
// never talks to Redis, so it should not pay ~40 ms to load a client.
const require = createRequire(import.meta.url);
let ioredis: typeof import("ioredis") | undefined;

import { ErrorCode, jobError } from "../errors.js";
import { backendError } from "./backend-errors.js";

/** A client of any deployment: one server, a Sentinel-watched master, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * One Redis node or Sentinel: `{ host, port }`.
 *
 * @example
 * ```ts
 * const queue = new RedisQueue({ cluster: [{ host: "10.0.0.1", port: 7000 }], prefix: "{orders}:" });
 * ```
 */
export interface RedisNode {
  host: string;
  /** @default 6379 (26379 for a Sentinel) */
  port?: number;
}

/** How to reach Redis, as validated from the queue's options. */
export interface ConnectionSettings {
  /**
   * `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS. With
   * `cluster` or `sentinels` only its user, password, database and TLS apply.
   */
  url: string;
  /** Seed nodes of a Redis Cluster (any few; the client learns the rest). */
  cluster?: RedisNode[] | undefined;
  /** Sentinels that watch the master named `name`. */
  sentinels?: RedisNode[] | undefined;
  /** The master's name in the Sentinels' configuration. */
  name?: string | undefined;
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

/** What the settings connect to, for messages: the URL (password hidden), the cluster or the Sentinel master. */
export function describeTarget(settings: ConnectionSettings): string {
  const list = (nodes: RedisNode[]) => nodes.map((n) => `${n.host}:${n.port ?? ""}`).join(",");
  if (settings.cluster !== undefined) return `the Redis Cluster ${list(settings.cluster)}`;
  if (settings.sentinels !== undefined)
    return `the Redis master "${settings.name}" (Sentinels ${list(settings.sentinels)})`;
  return `Redis at ${redactUrl(settings.url)}`;
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
    // Off: every command goes out at once, in call order. With it on, ioredis
    // holds commands to a later turn and sends no pipeline while another is
    // awaiting its replies, so at idle a job's claim waited for the enqueue's
    // reply and its completion for any call in flight. Our hot paths batch
    // jobs into one script call themselves; Redis and main-thread CPU per job
    // measured the same either way.
    enableAutoPipelining: false,
    // Reconnect for ever, backing off to one attempt every 2 s.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  if (u.username !== "") options.username = decodeURIComponent(u.username);
  if (u.password !== "") options.password = decodeURIComponent(u.password);
  if (u.protocol === "rediss:") options.tls = { servername: options.host!, ...settings.tls };
  return options;
}

/**
 * Sentinel: ioredis asks the Sentinels for the master, checks with `INFO`
 * that the node it reached is a master (a restarted old master that
 * Sentinel has not demoted yet answers as a master but is not the one the
 * Sentinels name, so it is never asked), and drops the connection on
 * `+switch-master` (failoverDetector) and on a `READONLY` reply, asking the
 * Sentinels again each time.
 */
function sentinelOptions(settings: ConnectionSettings, name: string): RedisOptions {
  const { host: _h, port: _p, ...base } = connectionOptions(settings, name);
  return {
    ...base,
    sentinels: settings.sentinels!.map(
      (n): Partial<SentinelAddress> => ({ host: n.host, port: n.port ?? 26379 }),
    ),
    name: settings.name!,
    role: "master",
    failoverDetector: true,
    sentinelRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 1000),
    reconnectOnError: (error) => /^READONLY/.test(error.message),
  };
}

/**
 * Cluster: ioredis's Cluster client routes each command (and each script,
 * by its first key) to the master of the key's slot, follows `MOVED` and
 * `ASK`, and refreshes the slot map after a failover. Reads go to masters
 * too: a replica may lag, and job state must be read where it is written.
 */
function clusterOptions(
  settings: ConnectionSettings,
  name: string,
  sharded: boolean,
): ClusterOptions {
  const {
    host: _h,
    port: _p,
    db: _d,
    retryStrategy: _r,
    ...node
  } = connectionOptions(settings, name);
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    scaleReads: "master",
    shardedSubscribers: sharded,
    slotsRefreshTimeout: settings.commandTimeoutMs,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    // Reconnect for ever, like a single connection does.
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    redisOptions: node,
  };
}

/**
 * A lazily connecting client; call {@link ensureConnected} before use.
 * `subscriber`: the client will subscribe (in a cluster, to sharded channels).
 */
export function createClient(
  settings: ConnectionSettings,
  name: string,
  subscriber = false,
): RedisClient {
  ioredis ??= require("ioredis") as typeof import("ioredis");
  const client: RedisClient =
    settings.cluster !== undefined
      ? new ioredis.Cluster(
          settings.cluster.map((n) => ({ host: n.host, port: n.port ?? 6379 })),
          clusterOptions(settings, name, subscriber),
        )
      : new ioredis.Redis(
          settings.sentinels !== undefined
            ? sentinelOptions(settings, name)
            : connectionOptions(settings, name),
        );
  // Errors surface through the calls that fail; the client's own event would
  // otherwise be an unhandled 'error' and end the process.
  client.on("error", () => {});
  client.on("ready", () => connectedOnce.add(client));
  return client;
}

/** Clients that have been ready at least once (a later wait is a reconnection). */
const connectedOnce = new WeakSet<RedisClient>();

/** A first attempt that Redis refused outright: waiting longer will not help the caller. */
function refusedOutright(error: unknown): boolean {
  const cause = (error as { lastNodeError?: unknown })?.lastNodeError ?? error;
  return /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/.test(String(cause));
}

/**
 * Ends a client: `QUIT` when it is ready (replies to what was sent come
 * first), then `disconnect()`. A Sentinel client needs the second step:
 * `QUIT` ends the connection to the master but not the connector's
 * subscriptions to the Sentinels (the failover watch), which would keep
 * reconnecting, and keep the process alive, for ever.
 */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status !== "ready") client.disconnect();
  else if ("slots" in client) await client.quit().catch(() => client.disconnect());
  else {
    await client.quit().catch(() => {});
    client.disconnect();
  }
}

/**
 * Resolves once the client is ready, or rejects with
 * `ERR_BACKEND_UNAVAILABLE` after `timeoutMs` (or when the first attempt is
 * refused). Reconnection keeps going in the background.
 *
 * The first connection of a client may take up to `connectTimeoutMs`: it is
 * several round trips (a cluster client connects to a seed, reads the slot
 * map, checks the cluster state, then reaches the slot's master), which a
 * busy machine does not fit in one command's timeout although Redis is fine.
 * A refused first attempt still fails at once, and a client that lost a
 * connection it had fails after `timeoutMs`, so callers learn quickly that
 * Redis is down.
 */
export async function ensureConnected(
  client: RedisClient,
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
        if (!connectedOnce.has(client) && refusedOutright(error)) {
          done(error);
          return;
        }
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
  const waitMs = connectedOnce.has(client)
    ? timeoutMs
    : Math.max(timeoutMs, settings.connectTimeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${waitMs} ms`)), waitMs);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    throw backendError(settings, error);
  } finally {
    clearTimeout(timer);
  }
}

const readiness = new WeakMap<RedisClient, Promise<void>>();
