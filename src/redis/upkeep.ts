import type { ClaimedJob, RunnerPort } from "../engine/store.js";
import type { RedisClient } from "./connection.js";
import type { EventBus } from "./event-bus.js";
import { type ControlMessage, parseControlMessage } from "./event-codec.js";
import { LeaseKeeper, type LeaseVerdict } from "./lease-keeper.js";
import type { RedisOperations } from "./operations.js";
import type { QueueKeys } from "./queue-keys.js";
import type { WorkerSettings } from "./redis-options.js";
import type { ScriptRunner } from "./scripts.js";

/** Finished jobs one trim call deletes at most (a few ms of Redis time). */
const TRIM_BATCH = 500;

export interface UpkeepDeps {
  keys: QueueKeys;
  scripts: ScriptRunner;
  client: RedisClient;
  bus: EventBus;
  settings: WorkerSettings;
  subscribeTimeoutMs: number;
  problem(what: string, error: unknown): void;
  /** Another process changed the schedules. */
  schedulesChanged(): void;
  ops(): RedisOperations;
  /** Settles once the event subscriptions this process asked for are confirmed. */
  listening(): Promise<void>;
}

/**
 * What a processing Redis store does beside claiming and writing: renews the
 * leases of the jobs its runner holds, recovers jobs whose leases expired,
 * applies the retention, follows the control channel (wake-ups, delayed jobs
 * due, cancels of running jobs) and polls as a safety net.
 */
export class Upkeep {
  readonly #d: UpkeepDeps;
  readonly #leases: LeaseKeeper<ClaimedJob>;
  #runner: RunnerPort | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #dueTimer: NodeJS.Timeout | undefined;
  #dueAt = Number.POSITIVE_INFINITY;
  #checking = false;
  /** The retention pass in progress, so detach can wait for it. */
  #trimming: Promise<void> | undefined;
  #finishedSinceTrim = 0;
  #stopped = false;
  /** The task limits last written, so they are written again only when they change. */
  #limits = "";

  constructor(deps: UpkeepDeps) {
    this.#d = deps;
    const s = deps.settings;
    this.#leases = new LeaseKeeper<ClaimedJob>(s.leaseMs, {
      held: () => this.#runner?.held() ?? [],
      renew: async (pairs) => {
        const args: (string | number)[] = [s.leaseMs, pairs.length];
        for (const [id, token] of pairs) args.push(id, token);
        const reply = (await deps.scripts.run("renewLeases", [deps.keys.leases], args)) as string[];
        const out: [string, LeaseVerdict][] = [];
        for (let i = 0; i + 1 < reply.length; i += 2)
          out.push([reply[i]!, reply[i + 1] as LeaseVerdict]);
        return out;
      },
      lost: (id, why, token) => this.#runner?.lost(id, why, token),
      cancel: (id) => this.#runner?.cancel(id),
      failed: (error) => deps.problem("renewing leases", error),
    });
  }

  start(runner: RunnerPort): void {
    this.#runner = runner;
    const s = this.#d.settings;
    this.#leases.start();
    this.#pollTimer = setInterval(() => runner.wake(), s.pollIntervalMs);
    this.#checkTimer = setInterval(() => void this.#check(), s.checkIntervalMs);
    this.#d.client.on("ready", this.#onReady);
    this.#d.bus.onReconnect(() => this.#runner?.wake());
    this.#subscribe();
    this.limitsShared = this.#shareLimits().catch((error) =>
      this.#d.problem("sharing task limits", error),
    );
    if (this.#d.client.status === "ready") void this.#check();
  }

  /** Settles once this process's task limits were written (or that failed): claims wait for it. */
  limitsShared: Promise<void> = Promise.resolve();

  /**
   * Shares the limits of the tasks this process runs (`concurrency`,
   * `rateLimit`) with every claimer: the claim script reads them from Redis.
   * Written at the first check and again when they change (a task defined
   * later); a task without limits clears any it had.
   */
  async #shareLimits(): Promise<void> {
    const tasks = this.#runner?.tasks() ?? [];
    const limits = tasks.map((t) => ({
      task: t.name,
      concurrency: t.concurrency,
      rateLimit: t.rateLimit,
    }));
    const text = JSON.stringify(limits);
    if (text === this.#limits) return;
    await this.#d.ops().setTaskLimits(limits);
    this.#limits = text;
  }

  /** Stops claiming-related timers at once; waits for a retention pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#dueTimer);
    await this.#trimming;
    this.#leases.stop();
    clearInterval(this.#checkTimer);
    this.#d.client.off("ready", this.#onReady);
    this.#runner = undefined;
  }

  readonly #onReady = () => {
    // A restarted Redis may have lost them.
    this.#limits = "";
    this.#subscribe();
    void this.#leases.renewNow();
    void this.#check();
    this.#runner?.wake();
  };

  #subscribe(): void {
    if (this.#stopped || this.#d.bus.has(this.#d.keys.control)) return;
    this.#d.bus
      .subscribe(
        this.#d.keys.control,
        (m) => this.#onControl(parseControlMessage(m.toString())),
        this.#d.subscribeTimeoutMs,
      )
      .catch(() => {
        // Redis is down: polling claims meanwhile, and the next ready connection subscribes.
      });
  }

  #onControl(message: ControlMessage): void {
    if (message.kind === "wake") this.#runner?.wake();
    else if (message.kind === "due") this.scheduleDue(message.at);
    else if (message.kind === "cancel") this.#runner?.cancel(message.jobId);
    else if (message.kind === "schedules") this.#d.schedulesChanged();
    else if (message.kind === "paused") this.#runner?.release();
  }

  /** Wakes the runner when the earliest delayed job is due (Redis's clock; the poll is the safety net). */
  scheduleDue(at: number): void {
    if (at >= this.#dueAt || this.#stopped) return;
    clearTimeout(this.#dueTimer);
    this.#dueAt = at;
    this.#dueTimer = setTimeout(
      () => {
        this.#dueAt = Number.POSITIVE_INFINITY;
        this.#runner?.wake();
      },
      Math.max(0, Math.min(at - Date.now(), this.#d.settings.pollIntervalMs)) + 2,
    );
  }

  /** Jobs were written as finished: the retention keeps pace with them. */
  finished(n: number): void {
    this.#finishedSinceTrim += n;
    if (this.#finishedSinceTrim >= TRIM_BATCH) void this.#trim();
  }

  /** Recovers jobs whose leases expired, then applies the retention. */
  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    const k = this.#d.keys;
    try {
      // The changes this check makes must reach the listeners registered here.
      await this.#d.listening();
      await this.#shareLimits();
      for (let round = 0; round < 10; round++) {
        const reply = (await this.#d.scripts.run(
          "expireLeases",
          [k.leases, k.ready, k.pending, k.failed, k.cancelled, k.done, k.delayed],
          [500],
        )) as [number, ...string[]];
        const n = reply[0];
        if (n > 0) {
          const ids = reply.slice(1) as string[];
          this.#d.settings.logger.warn(
            `rapidai: ${n} job(s) had an expired lease and were recovered: ${ids.slice(0, 5).join(", ")}${n > 5 ? ", …" : ""}`,
            { code: "LEASES_RECOVERED", count: n, jobIds: ids.slice(0, 100) },
          );
        }
        if (n < 500) break;
      }
    } catch (error) {
      this.#d.problem("checking leases", error);
    } finally {
      this.#checking = false;
    }
    // Jobs also age out of the retention while nothing finishes.
    await this.#trim();
  }

  /**
   * Deletes finished jobs beyond the retention, oldest first, a bounded
   * batch per call, and calls again until none is left: run after every
   * TRIM_BATCH jobs written as finished and at every check, so it keeps pace
   * with the jobs that finish however fast they do. (Trimming only at the
   * checks, up to a fixed number per check, fell behind at 20,000 jobs/s.)
   */
  #trim(): Promise<void> {
    if (this.#trimming === undefined) this.#trimming = this.#trimRounds();
    return this.#trimming;
  }

  async #trimRounds(): Promise<void> {
    this.#finishedSinceTrim = 0;
    const k = this.#d.keys;
    const { maxAgeMs, maxCount } = this.#d.settings.retention;
    try {
      for (;;) {
        const n = (await this.#d.scripts.run(
          "trim",
          [k.done, k.completed, k.failed, k.cancelled],
          [maxAgeMs, maxCount, TRIM_BATCH],
        )) as number;
        if (n < TRIM_BATCH || this.#stopped) break;
      }
    } catch (error) {
      this.#d.problem("applying the retention", error);
    } finally {
      this.#trimming = undefined;
    }
  }
}
