import type { ConnectionOptions } from "node:tls";
import { ErrorCode, jobError } from "../errors.js";
import type { ExecutorOptions } from "../executor/executor.js";
import { validateExecutorOptions } from "../memory/in-memory-queue.js";
import { booleanOption, integerOption, objectOption, rejectUnknownKeys } from "../validate.js";
import type { ConnectionSettings } from "./connection.js";
import { validateRedisUrl } from "./connection.js";
import { QueueKeys } from "./queue-keys.js";
import type { QueueLogger, WorkerSettings } from "./redis-worker.js";

/** How long finished jobs stay in Redis. */
export interface RedisRetentionOptions {
  /** Delete finished jobs older than this, in ms. @default 86_400_000 (one day) */
  maxAgeMs?: number;
  /** Keep at most this many finished jobs (the oldest go first). @default 100_000 */
  maxCount?: number;
}

/** Options of {@link RedisQueue}. */
export interface RedisQueueOptions extends ExecutorOptions {
  /**
   * `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS.
   * @default "redis://localhost:6379"
   */
  url?: string;
  /**
   * Prefix of every key and channel. Put a `{hash tag}` in it (e.g.
   * `"{myapp}:jobs:"`) to keep the queue in one Redis Cluster slot.
   * @default "rapidai:jobs:"
   */
  prefix?: string;
  /** Run jobs in this process; `false` makes an enqueue-and-read-only client. @default true */
  process?: boolean;
  /** How long a claimed job's lease lasts without renewal, in ms. Renewed every quarter of it. @default 30_000 */
  leaseMs?: number;
  /** How often expired leases are looked for (and retention applied), in ms. @default min(5_000, leaseMs / 2) */
  checkIntervalMs?: number;
  /** How often an idle worker looks for jobs when no wake-up message came, in ms. @default 1_000 */
  pollIntervalMs?: number;
  /**
   * Jobs claimed beyond what the threads run at once, so short jobs never
   * wait for a round trip to Redis. @default adapts to the job length
   * (none for long jobs, up to 512 for very short ones)
   */
  prefetch?: number;
  /** Retention of completed, failed and cancelled jobs. */
  retention?: RedisRetentionOptions;
  /** Largest encoded arguments accepted, in bytes. @default 16 MiB */
  maxPayloadBytes?: number;
  /** Give up on one connection attempt after this long, in ms. @default 10_000 */
  connectTimeoutMs?: number;
  /**
   * A command (and `enqueue`) fails with `ERR_BACKEND_UNAVAILABLE` when
   * Redis does not answer within this long, in ms. @default 1_000
   */
  commandTimeoutMs?: number;
  /** TLS options for `rediss://` URLs (a private CA, client certificates). */
  tls?: ConnectionOptions;
  /** Where warnings go (lost leases, Redis unreachable, eviction policy). @default console */
  logger?: QueueLogger;
}

const KEYS = [
  "url",
  "prefix",
  "process",
  "threads",
  "concurrencyPerThread",
  "cancelGraceMs",
  "resourceLimits",
  "leaseMs",
  "checkIntervalMs",
  "pollIntervalMs",
  "prefetch",
  "retention",
  "maxPayloadBytes",
  "connectTimeoutMs",
  "commandTimeoutMs",
  "tls",
  "logger",
] as const;

/** Every option of a Redis queue, checked and with its default applied. */
export interface ParsedRedisOptions {
  keys: QueueKeys;
  process: boolean;
  executor: ExecutorOptions;
  connection: ConnectionSettings;
  worker: WorkerSettings;
  maxPayloadBytes: number;
}

export function parseRedisOptions(options: unknown): ParsedRedisOptions {
  const o = objectOption("options", options) ?? {};
  rejectUnknownKeys("", o, KEYS);
  validateExecutorOptions(o);
  const url = o.url === undefined ? "redis://localhost:6379" : validateRedisUrl(o.url);
  const keys = new QueueKeys(o.prefix === undefined ? "rapidai:jobs:" : o.prefix);
  const processJobs = o.process === undefined ? true : booleanOption("process", o.process);
  const leaseMs =
    o.leaseMs === undefined ? 30_000 : integerOption("leaseMs", o.leaseMs, 100, 86_400_000);
  const checkIntervalMs =
    o.checkIntervalMs === undefined
      ? Math.min(5_000, Math.floor(leaseMs / 2))
      : integerOption("checkIntervalMs", o.checkIntervalMs, 10, 3_600_000);
  const pollIntervalMs =
    o.pollIntervalMs === undefined
      ? 1_000
      : integerOption("pollIntervalMs", o.pollIntervalMs, 10, 3_600_000);
  const prefetch =
    o.prefetch === undefined ? undefined : integerOption("prefetch", o.prefetch, 0, 10_000);
  const retention = objectOption("retention", o.retention) ?? {};
  rejectUnknownKeys("retention.", retention, ["maxAgeMs", "maxCount"]);
  const maxAgeMs =
    retention.maxAgeMs === undefined
      ? 86_400_000
      : integerOption("retention.maxAgeMs", retention.maxAgeMs, 0);
  const maxCount =
    retention.maxCount === undefined
      ? 100_000
      : integerOption("retention.maxCount", retention.maxCount, 0);
  const maxPayloadBytes =
    o.maxPayloadBytes === undefined
      ? 16 * 1024 * 1024
      : integerOption("maxPayloadBytes", o.maxPayloadBytes, 1, 512 * 1024 * 1024);
  const connectTimeoutMs =
    o.connectTimeoutMs === undefined
      ? 10_000
      : integerOption("connectTimeoutMs", o.connectTimeoutMs, 1);
  const commandTimeoutMs =
    o.commandTimeoutMs === undefined
      ? 1_000
      : integerOption("commandTimeoutMs", o.commandTimeoutMs, 1);
  const tls = objectOption("tls", o.tls) as ConnectionOptions | undefined;
  const logger = o.logger === undefined ? console : (o.logger as QueueLogger);
  if (logger === null || typeof logger !== "object" || typeof logger.warn !== "function") {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "`logger` must be an object with a warn(message) method",
    );
  }
  const executor: ExecutorOptions = {};
  if (o.threads !== undefined) executor.threads = o.threads as number;
  if (o.concurrencyPerThread !== undefined)
    executor.concurrencyPerThread = o.concurrencyPerThread as number;
  if (o.cancelGraceMs !== undefined) executor.cancelGraceMs = o.cancelGraceMs as number;
  if (o.resourceLimits !== undefined)
    executor.resourceLimits = o.resourceLimits as ExecutorOptions["resourceLimits"] & {};
  return {
    keys,
    process: processJobs,
    executor,
    connection: { url, tls, connectTimeoutMs, commandTimeoutMs },
    worker: {
      leaseMs,
      checkIntervalMs,
      pollIntervalMs,
      prefetch,
      retention: { maxAgeMs, maxCount },
      logger,
    },
    maxPayloadBytes,
  };
}
