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
import type { ConnectionSettings, RedisNode } from "./connection.js";
import { validateRedisUrl } from "./connection.js";
import { parseDeployment } from "./deployment-options.js";
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
  /**
   * Seed nodes of a Redis Cluster, e.g. `[{ host: "10.0.0.1", port: 7000 }]`
   * (a few suffice: the client learns the rest and follows failovers). The
   * prefix must hold a `{hash tag}`. `url` then only gives the user,
   * password and TLS.
   */
  cluster?: RedisNode[];
  /**
   * Sentinels that watch the master named `name`: the client asks them for
   * the current master and follows failovers. `url` then only gives the
   * user, password, database and TLS.
   */
  sentinels?: RedisNode[];
  /** The master's name in the Sentinels' configuration (with `sentinels`), e.g. `"mymaster"`. */
  name?: string;
  /**
   * `"master"`: an enqueue is acknowledged once the master stored it (a
   * master that dies before its replica copied the job loses it on
   * failover). `"replicated"`: only once a replica has it too (`WAIT 1`),
   * or the enqueue fails with `ERR_REPLICATION_TIMEOUT`. @default "master"
   */
  durability?: "master" | "replicated";
  /**
   * With `durability: "replicated"`, how long to wait for a replica, in ms
   * (below `commandTimeoutMs`). @default commandTimeoutMs / 2
   */
  replicationTimeoutMs?: number;
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
  "cluster",
  "sentinels",
  "name",
  "durability",
  "replicationTimeoutMs",
] as const;

/** Every option of a Redis queue, checked and with its default applied. */
export interface ParsedRedisOptions {
  keys: QueueKeys;
  process: boolean;
  executor: ExecutorOptions;
  connection: ConnectionSettings;
  worker: WorkerSettings;
  common: ParsedCommonOptions;
  /** `durability: "replicated"`: enqueues wait for a replica for this long; undefined: they do not. */
  replicationTimeoutMs: number | undefined;
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
  const d = parseDeployment(o, keys.prefix, commandTimeoutMs);
  return {
    keys,
    process: processJobs,
    executor: common.executor,
    connection: {
      url,
      cluster: d.cluster,
      sentinels: d.sentinels,
      name: d.name,
      tls,
      connectTimeoutMs,
      commandTimeoutMs,
    },
    replicationTimeoutMs: d.durability === "replicated" ? d.replicationTimeoutMs : undefined,
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
