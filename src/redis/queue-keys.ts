import { ErrorCode, jobError } from "../errors.js";
import { JOB_STATUSES } from "../job-status.js";

/**
 * Every Redis key and channel a queue uses, all under its prefix. A prefix
 * that holds a `{hash tag}` keeps the whole queue in one Redis Cluster slot,
 * which the Lua scripts need: they build job keys from the prefix.
 */
export class QueueKeys {
  readonly prefix: string;
  /** Runnable jobs: score -priority, member zero-padded creation sequence + id. */
  readonly ready: string;
  /** Runnable fresh jobs of priority 0, a list of ids, oldest first (see scripts/includes/base.lua). */
  readonly fifo: string;
  /** Ids whose fifo entries are stale (the job was cancelled or deleted): id -> entries to skip. */
  readonly fifoStale: string;
  /** Jobs waiting for their delay or backoff: score = ms when they may run. */
  readonly delayed: string;
  /** Claimed (running) jobs: score = ms when the lease expires. Also the index of running jobs. */
  readonly leases: string;
  /** Finished jobs: score = ms when they finished (retention works from it). */
  readonly done: string;
  /** Creation sequence counter. */
  readonly seq: string;
  /** Per-status indexes: score = creation sequence (running jobs are in `leases`). */
  readonly pending: string;
  readonly completed: string;
  readonly failed: string;
  readonly cancelled: string;
  /** Pub/sub channel of job events (batched records, see event-codec.ts). */
  readonly events: string;
  /** Pub/sub channel of worker control messages (wake, delayed due, cancel). */
  readonly control: string;
  /** Exists while the queue is paused: no job is claimed (queue.pause / resume). */
  readonly paused: string;
  /** Per-task limits every claimer applies: task -> `<concurrency>:<max>:<intervalMs>`, 0 for none. */
  readonly limits: string;
  /** Tasks with parked jobs: score = ms when the claim script looks at them again. */
  readonly throttled: string;

  constructor(prefix: unknown) {
    this.prefix = validatePrefix(prefix);
    const p = this.prefix;
    this.ready = `${p}ready`;
    this.fifo = `${p}fifo`;
    this.fifoStale = `${p}fifo:stale`;
    this.delayed = `${p}delayed`;
    this.leases = `${p}leases`;
    this.done = `${p}done`;
    this.seq = `${p}seq`;
    this.pending = `${p}s:pending`;
    this.completed = `${p}s:completed`;
    this.failed = `${p}s:failed`;
    this.cancelled = `${p}s:cancelled`;
    this.events = `${p}events`;
    this.control = `${p}control`;
    this.paused = `${p}paused`;
    this.limits = `${p}limits`;
    this.throttled = `${p}throttled`;
  }

  /**
   * Exists while some process listens to events of one kind (E enqueued, S
   * started, C completed, F failed, R retrying, X cancelled, B handed back,
   * P progress, T retried by hand, Z paused, U resumed): the scripts only
   * build the records someone listens to.
   */
  listen(kind: string): string {
    return `${this.prefix}listen:${kind}`;
  }

  /** Worker processes of the queue: score = ms of their last heartbeat, member = worker id. */
  get workers(): string {
    return `${this.prefix}workers`;
  }

  /** The record of one worker process (a hash with a TTL, renewed while it runs). */
  worker(id: string): string {
    return `${this.prefix}worker:${id}`;
  }

  /** The hash of one job. */
  job(id: string): string {
    return `${this.prefix}job:${id}`;
  }

  /** Schedules by next run: score = ms of the next tick, member = schedule id. */
  get schedules(): string {
    return `${this.prefix}schedules`;
  }

  /** Firings claimed but not enqueued yet: score = ms claimed, member = the firing's job id. */
  get scheduleFirings(): string {
    return `${this.prefix}schedule-firings`;
  }

  /** The hash of one schedule (task, spec, arguments, next and last run). */
  schedule(id: string): string {
    return `${this.prefix}schedule:${id}`;
  }

  /** The dependencies of job `id` that have not completed yet (a set; gone once empty). */
  deps(id: string): string {
    return `${this.prefix}deps:${id}`;
  }

  /** The jobs waiting for job `id` to finish (a set). */
  dependents(id: string): string {
    return `${this.prefix}dependents:${id}`;
  }

  /** The log lines of one job (a list, oldest first, bounded). */
  logs(id: string): string {
    return `${this.prefix}logs:${id}`;
  }

  /** The dedupe key `key` of enqueueWith({ dedupe }): `<ttl ms>:<job id>` of the job holding it. */
  dedupe(key: string): string {
    return `${this.prefix}dedupe:${key}`;
  }

  /** Jobs of a task parked by its limits, with their ready-set scores. */
  waiting(task: string): string {
    return `${this.prefix}wait:${task}`;
  }

  /** Running jobs of a task that hold a slot of its concurrency limit. */
  active(task: string): string {
    return `${this.prefix}active:${task}`;
  }

  /** Starts of a task in its current rate window: score = start ms. */
  rate(task: string): string {
    return `${this.prefix}rate:${task}`;
  }

  /** The key that indexes each status, in lifecycle order (`leases` for running). */
  get statuses(): string[] {
    return JOB_STATUSES.map((s) => (s === "running" ? this.leases : this[s]));
  }
}

/**
 * A prefix is 1 to 200 printable characters without spaces. A `{` must be
 * closed by a `}` with something between, or Redis Cluster would hash keys
 * of one queue to different slots.
 */
export function validatePrefix(value: unknown): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > 200 ||
    !/^[\x21-\x7e]+$/.test(value)
  ) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`prefix\` must be 1 to 200 printable characters without spaces (got ${JSON.stringify(value)})`,
    );
  }
  const open = value.indexOf("{");
  if (open >= 0) {
    const close = value.indexOf("}", open + 1);
    if (close < 0 || close === open + 1) {
      throw jobError(
        ErrorCode.INVALID_OPTION,
        `\`prefix\` has an unclosed or empty {hash tag} (got ${JSON.stringify(value)}): use e.g. "{myapp}:jobs:"`,
      );
    }
  }
  return value;
}
