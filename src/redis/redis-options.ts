import type { ConnectionOptions } from "node:tls";
import {
  COMMON_KEYS,
  type CommonQueueOptions,
  type ParsedCommonOptions,
  parseCommonOptions,
  type QueueLogger,
  type RetentionOptions,
} from "../engine/queue-options.js";
import type { ExecutorOptions } from "../executor/executor.js";
import { booleanOption, integerOption, objectOption, rejectUnknownKeys } from "../validate.js";
import type { ConnectionSettings } from "./connection.js";
import { validateRedisUrl } from "./connection.js";
import { QueueKeys } from "./queue-keys.js";

export type { QueueLogger };
/** How long finished jobs stay in Redis. */
export type RedisRetentionOptions = RetentionOptions;

/** How the processing side of a Redis queue claims, renews and checks. */
export interface WorkerSettings {
  leaseMs: number;
  checkIntervalMs: number;
  pollIntervalMs: number;
  /** Jobs claimed beyond the threads' capacity; undefined = adapt to job length. */
  prefetch: number | undefined;
  retention: { maxAgeMs: number; maxCount: number };
  maxLogLines: number;
  logger: QueueLogger;
}

/** Options of {@link RedisQueue}. */
export interface RedisQueueOptions extends CommonQueueOptions {
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
  /** Give up on one connection attempt after this long, in ms. @default 10_000 */
  connectTimeoutMs?: number;
  /**
   * A command (and `enqueue`) fails with `ERR_BACKEND_UNAVAILABLE` when
   * Redis does not answer within this long, in ms. @default 1_000
   */
  commandTimeoutMs?: number;
  /** TLS options for `rediss://` URLs (a private CA, client certificates). */
  tls?: ConnectionOptions;
}

const KEYS = [
  ...COMMON_KEYS,
  "url",
  "prefix",
  "process",
  "leaseMs",
  "checkIntervalMs",
  "pollIntervalMs",
  "prefetch",
  "connectTimeoutMs",
  "commandTimeoutMs",
  "tls",
] as const;

/** Every option of a Redis queue, checked and with its default applied. */
export interface ParsedRedisOptions {
  keys: QueueKeys;
  process: boolean;
  executor: ExecutorOptions;
  connection: ConnectionSettings;
  worker: WorkerSettings;
  common: ParsedCommonOptions;
}

export function parseRedisOptions(options: unknown): ParsedRedisOptions {
  const o = objectOption("options", options) ?? {};
  rejectUnknownKeys("", o, KEYS);
  const common = parseCommonOptions(o);
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
  const connectTimeoutMs =
    o.connectTimeoutMs === undefined
      ? 10_000
      : integerOption("connectTimeoutMs", o.connectTimeoutMs, 1);
  const commandTimeoutMs =
    o.commandTimeoutMs === undefined
      ? 1_000
      : integerOption("commandTimeoutMs", o.commandTimeoutMs, 1);
  const tls = objectOption("tls", o.tls) as ConnectionOptions | undefined;
  return {
    keys,
    process: processJobs,
    executor: common.executor,
    connection: { url, tls, connectTimeoutMs, commandTimeoutMs },
    worker: {
      leaseMs,
      checkIntervalMs,
      pollIntervalMs,
      prefetch,
      retention: common.retention,
      maxLogLines: common.maxLogLines,
      logger: common.logger,
    },
    common,
  };
}
