import {
  type CleanOptions,
  parseCleanOptions,
  parseMaxLogLines,
  parseTaskLimits,
  type RateLimit,
} from "../operation-options.js";
import { validateJobId } from "../validate.js";
import type { RedisClient } from "./connection.js";
import type { QueueKeys } from "./queue-keys.js";
import type { ScriptArg, ScriptRunner } from "./scripts.js";

/** Jobs one clean call deletes at most: a script call must stay short. */
const CLEAN_BATCH = 1000;
/** Script arguments per append-logs call, so one call stays short. */
const LOG_ARGS_PER_CALL = 5000;

/** The lines of one attempt for its job's log. */
export interface LogEntry {
  jobId: string;
  /** The lease token of the attempt (`<worker id>:<attempt>`): the lines of an attempt that lost its lease are dropped. */
  token: string;
  lines: string[];
}

/**
 * The operating calls of a Redis queue (retry, promote, pause, remove,
 * clean, logs, task limits), each one Lua script, so each is atomic and
 * reaches every process that shares the prefix. Arguments are checked
 * before anything is sent (coded `ERR_INVALID_OPTION` / `ERR_INVALID_JOB_ID`).
 */
export class RedisOperations {
  readonly #scripts: ScriptRunner;
  readonly #client: RedisClient;
  readonly #keys: QueueKeys;

  constructor(scripts: ScriptRunner, client: RedisClient, keys: QueueKeys) {
    this.#scripts = scripts;
    this.#client = client;
    this.#keys = keys;
  }

  /**
   * failed | cancelled → pending, ready at once. Attempts keep counting and
   * the job gets a fresh budget of maxRetries (see retry-2.lua). False for
   * an unknown job or one in another state.
   */
  async retry(jobId: string): Promise<boolean> {
    validateJobId(jobId);
    const k = this.#keys;
    return (await this.#scripts.run("retry", [k.ready, k.done], [jobId])) === 1;
  }

  /** A delayed pending job becomes ready now; false unless it was delayed. */
  async promote(jobId: string): Promise<boolean> {
    validateJobId(jobId);
    const k = this.#keys;
    return (await this.#scripts.run("promote", [k.delayed, k.ready], [jobId])) === 1;
  }

  /** No job starts in any process until `resume()`; running ones finish, enqueue goes on. */
  async pause(): Promise<void> {
    await this.#scripts.run("pause", [this.#keys.paused], []);
  }

  /** Ends a pause and wakes every worker, so idle ones claim at once. */
  async resume(): Promise<void> {
    await this.#scripts.run("resume", [this.#keys.paused], []);
  }

  async isPaused(): Promise<boolean> {
    return (await this.#client.exists(this.#keys.paused)) === 1;
  }

  /** Deletes a job that is not running, with its logs; false if running or unknown. */
  async remove(jobId: string): Promise<boolean> {
    validateJobId(jobId);
    return (await this.#scripts.run("remove", [this.#keys.done], [jobId])) === 1;
  }

  /**
   * Deletes finished jobs of one status that finished at least `olderThanMs`
   * ago (at the first call's Redis time), at most `limit`; returns how many.
   * Runs in calls of at most 1,000 deletions, so Redis never stalls on it.
   */
  async clean(options: {
    status: "completed" | "failed" | "cancelled";
    olderThanMs?: number;
    limit?: number;
  }): Promise<number> {
    const o: CleanOptions = parseCleanOptions(options);
    let total = 0;
    let cutoff = "";
    let offset = 0;
    while (total < o.limit) {
      const batch = Math.min(CLEAN_BATCH, o.limit - total);
      const r = (await this.#scripts.run(
        "clean",
        [this.#keys.done],
        [o.status, cutoff, o.olderThanMs, batch, offset],
      )) as [number, number, string, number];
      total += r[0];
      offset = r[1];
      cutoff = r[2];
      if (r[3] === 0) break;
    }
    return total;
  }

  /**
   * Appends lines to the logs of running attempts, keeping each job's last
   * `maxLines`: one script call for many jobs (split only when very large).
   * Lines of an attempt that no longer holds its lease are dropped.
   */
  async appendLogs(entries: readonly LogEntry[], maxLines: number): Promise<void> {
    const keep = parseMaxLogLines(maxLines);
    let args: ScriptArg[] = [];
    let n = 0;
    const calls: Promise<unknown>[] = [];
    const send = (): void => {
      calls.push(this.#scripts.run("appendLogs", [this.#keys.leases], [keep, n, ...args]));
      args = [];
      n = 0;
    };
    for (const e of entries) {
      if (e.lines.length === 0) continue;
      // Older lines would be trimmed away at once: do not send them.
      const lines = e.lines.length > keep ? e.lines.slice(-keep) : e.lines;
      if (n > 0 && args.length + lines.length + 3 > LOG_ARGS_PER_CALL) send();
      args.push(e.jobId, e.token, lines.length);
      for (const line of lines) args.push(String(line));
      n++;
    }
    if (n > 0) send();
    await Promise.all(calls);
  }

  /** A job's log lines, oldest first; undefined for an unknown job. */
  async getLogs(jobId: string): Promise<string[] | undefined> {
    validateJobId(jobId);
    const r = await this.#client
      .multi()
      .exists(this.#keys.job(jobId))
      .lrange(this.#keys.logs(jobId), 0, -1)
      .exec();
    if (r === null) return undefined;
    const [exists, lines] = r;
    if (exists?.[0]) throw exists[0];
    if (lines?.[0]) throw lines[0];
    return exists?.[1] === 1 ? (lines?.[1] as string[]) : undefined;
  }

  /**
   * Stores the limits every claimer applies to these tasks (call it at
   * worker start for the tasks it runs); a task given with neither limit
   * has its limits cleared. Parked jobs of the tasks are looked at again at
   * the next claim, so a raised limit takes effect at once.
   */
  async setTaskLimits(
    limits: readonly {
      task: string;
      concurrency?: number;
      rateLimit?: RateLimit;
    }[],
  ): Promise<void> {
    const args: ScriptArg[] = [];
    for (const value of limits) {
      const l = parseTaskLimits(value);
      const spec =
        l.concurrency === undefined && l.rateLimit === undefined
          ? ""
          : `${l.concurrency ?? 0}:${l.rateLimit?.max ?? 0}:${l.rateLimit?.intervalMs ?? 0}`;
      args.push(l.task, spec);
    }
    if (args.length === 0) return;
    await this.#scripts.run("setLimits", [this.#keys.limits], [args.length / 2, ...args]);
  }
}
