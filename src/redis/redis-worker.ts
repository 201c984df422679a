import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { Redis } from "ioredis";
import { encodeMsgpack } from "../codec.js";
import { ErrorCode, errorMessage, type SerializedError } from "../errors.js";
import type { Attempt, AttemptOutcome } from "../executor/attempt.js";
import { Executor, type ExecutorOptions } from "../executor/executor.js";
import { ArgsEncoding, CancelFlag } from "../executor/protocol.js";
import { findTask } from "../registry.js";
import { decide } from "../retry-policy.js";
import type { TaskDefinition } from "../task-definition.js";
import { TimerQueue } from "../timer-queue.js";
import { mainThreadHost } from "../worker-host.js";
import { isConnectionError } from "./connection.js";
import type { EventBus } from "./event-bus.js";
import { type ControlMessage, parseControlMessage } from "./event-codec.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { packCompletions, unpackClaims } from "./packed.js";
import type { QueueKeys } from "./queue-keys.js";
import type { ScriptRunner } from "./scripts.js";

/** Where the worker writes what an operator should see. */
export interface QueueLogger {
  warn(message: string): void;
}

export interface WorkerSettings {
  leaseMs: number;
  checkIntervalMs: number;
  pollIntervalMs: number;
  /** Jobs claimed beyond the threads' capacity; undefined = adapt to job length. */
  prefetch: number | undefined;
  retention: { maxAgeMs: number; maxCount: number };
  logger: QueueLogger;
}

interface WorkerDeps {
  keys: QueueKeys;
  scripts: ScriptRunner;
  client: Redis;
  bus: EventBus;
  executor: ExecutorOptions;
  settings: WorkerSettings;
  /** A problem outside any one job. */
  error(error: Error): void;
  /** Subscribe timeout (the command timeout). */
  subscribeTimeoutMs: number;
}

/** One job this process holds a lease on. */
interface HeldJob {
  readonly id: string;
  readonly task: string;
  readonly token: string;
  readonly attempt: number;
  readonly maxRetries: number;
  readonly args: Uint8Array | undefined;
  state: "waiting" | "running" | "ending";
  run: Attempt | undefined;
  /** The lease was taken over: whatever this attempt answers is dropped. */
  lost: boolean;
  /** Handed back at shutdown: its outcome is dropped. */
  handedBack: boolean;
}

type Ending =
  /** `result`: msgpack bytes as a latin1 string, empty for undefined (see complete-4.lua). */
  | { job: HeldJob; kind: "complete"; result: string; durationMs: number }
  /** Back to pending, the attempt not counted: it never started. */
  | { job: HeldJob; kind: "requeue" }
  | {
      job: HeldJob;
      kind: "f" | "r" | "c";
      error: string;
      code: string;
      delayMs: number;
      durationMs: number;
    };

const MAX_CLAIM = 1000;
/** Ends written in one call when jobs end fast enough to gather them… */
const FLUSH_BATCH = 200;
/** …waiting at most this long, in ms. */
const FLUSH_WAIT_MS = 4;
const MAX_PREFETCH = 512;
/** Finished jobs one trim call deletes at most (a few ms of Redis time). */
const TRIM_BATCH = 500;

/**
 * The processing side of a Redis queue: claims jobs in batches, runs them on
 * the worker-thread pool, writes their ends back in batches, keeps their
 * leases, recovers jobs whose leases expired, applies retention, and on
 * close hands back what it will not finish.
 */
export class RedisWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  readonly executor: Executor;
  readonly #d: WorkerDeps;
  readonly #s: WorkerSettings;
  readonly #timers = new TimerQueue();
  readonly #held = new Map<string, HeldJob>();
  readonly #waiting: HeldJob[] = [];
  #active = 0;
  #endings: Ending[] = [];
  #progress = new Map<string, { job: HeldJob; value: Buffer }>();
  #flushing: Promise<void> | undefined;
  #flushQueued = false;
  #flushRetry: NodeJS.Timeout | undefined;
  #claiming = false;
  /** The claim in flight, so close() can wait for what it brings. */
  #claimDone: Promise<void> = Promise.resolve();
  #maybeMore = true;
  #wakeGen = 0;
  #dueTimer: NodeJS.Timeout | undefined;
  #dueAt = Number.POSITIVE_INFINITY;
  #pollTimer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #checking = false;
  /** The retention pass in progress, so close() can wait for it. */
  #trimming: Promise<void> | undefined;
  /** Jobs written as finished since the last retention pass began. */
  #finishedSinceTrim = 0;
  #leases: LeaseKeeper<HeldJob>;
  #closing = false;
  #idleWaiters: (() => void)[] = [];
  /** Moving average of the time between two jobs ending here, in ms: the pace. */
  #msPerJob = -1;
  /** Start of the current pace window and the jobs ended in it (see #measurePace). */
  #paceFrom = 0;
  #paceEnds = 0;
  #avgClaimMs = 1;
  #downSince = 0;

  constructor(deps: WorkerDeps) {
    this.#d = deps;
    this.#s = deps.settings;
    this.executor = new Executor(deps.executor, {
      host: mainThreadHost,
      timers: this.#timers,
      progress: (jobId, value) => this.#onProgress(jobId, value),
      error: (error) => deps.error(error),
    });
    this.#leases = new LeaseKeeper(this.#s.leaseMs, {
      held: () => this.#held.values(),
      renew: async (pairs) => {
        const args: (string | number)[] = [this.#s.leaseMs, pairs.length];
        for (const [id, token] of pairs) args.push(id, token);
        const reply = (await this.#d.scripts.run(
          "renewLeases",
          [this.#d.keys.leases],
          args,
        )) as string[];
        const out: [string, "lost" | "cancel"][] = [];
        for (let i = 0; i + 1 < reply.length; i += 2)
          out.push([reply[i]!, reply[i + 1] as "lost" | "cancel"]);
        return out;
      },
      lost: (id) => this.#leaseLost(id),
      cancel: (id) => this.cancelLocal(id),
      failed: (error) => this.#transient("renewing leases", error),
    });
  }

  /** Jobs held now (claimed and not yet written back). */
  get held(): number {
    return this.#held.size;
  }

  /** True when this process holds the job. */
  holds(jobId: string): boolean {
    return this.#held.has(jobId);
  }

  start(): void {
    this.#startedAt = Date.now();
    this.executor.start();
    this.#leases.start();
    this.#pollTimer = setInterval(() => this.#wake(), this.#s.pollIntervalMs);
    this.#checkTimer = setInterval(() => void this.#check(), this.#s.checkIntervalMs);
    this.#d.client.on("ready", this.#onReady);
    this.#d.bus.onReconnect(() => this.#wake());
    this.#d.bus
      .subscribe(
        this.#d.keys.control,
        (m) => this.#onControl(parseControlMessage(m.toString())),
        this.#d.subscribeTimeoutMs,
      )
      .catch(() => {
        // Redis is down: polling claims meanwhile, and the next ready connection subscribes.
      });
    // Until the connection is ready, #onReady does the first claim and check.
    if (this.#d.client.status === "ready") {
      this.#connected = true;
      void this.#check();
      this.#claim();
    }
  }

  readonly #onReady = () => {
    this.#connected = true;
    if (this.#downSince > 0) {
      this.#s.logger.warn(
        `rapidai: reconnected to Redis after ${Math.round((Date.now() - this.#downSince) / 1000)} s`,
      );
      this.#downSince = 0;
    }
    if (!this.#d.bus.has(this.#d.keys.control) && !this.#closing) {
      this.#d.bus
        .subscribe(
          this.#d.keys.control,
          (m) => this.#onControl(parseControlMessage(m.toString())),
          this.#d.subscribeTimeoutMs,
        )
        .catch(() => {});
    }
    void this.#leases.renewNow();
    void this.#check();
    this.#scheduleFlush();
    this.#wake();
  };

  /** Stops the job here if this process holds it (the cancel was recorded in Redis already). */
  cancelLocal(jobId: string): void {
    const job = this.#held.get(jobId);
    if (job === undefined || job.lost || job.handedBack) return;
    if (job.state === "waiting") {
      const i = this.#waiting.indexOf(job);
      if (i >= 0) this.#waiting.splice(i, 1);
      this.#end({ job, kind: "c", error: "", code: "", delayMs: 0, durationMs: 0 });
    } else if (job.state === "running" && job.run !== undefined) {
      this.executor.stop(job.run, CancelFlag.CANCELLED);
    }
  }

  /**
   * Stops taking work. Jobs claimed but not started go back at once; running
   * jobs get `timeoutMs` to finish (no limit when undefined), then are
   * handed back and their threads terminated. Resolves once every end is
   * written (or Redis stayed unreachable for a while) and the pool is down.
   */
  async close(timeoutMs: number | undefined): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#dueTimer);
    await this.#claimDone;
    const notStarted = this.#waiting.splice(0);
    if (notStarted.length > 0) await this.#handBack(notStarted);
    if (this.#active > 0) {
      const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      if (timeoutMs === undefined) await idle;
      else {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((r) => {
          timer = setTimeout(() => r("timeout"), timeoutMs);
        });
        const first = await Promise.race([idle, timedOut]);
        clearTimeout(timer);
        if (first === "timeout") {
          const running = [...this.#held.values()].filter((j) => j.state === "running" && !j.lost);
          for (const job of running) job.handedBack = true;
          await this.#handBack(running);
          this.executor.terminateAll();
          await idle;
        }
      }
    }
    await this.#drainWrites();
    await this.#trimming;
    this.#leases.stop();
    clearInterval(this.#checkTimer);
    clearTimeout(this.#flushRetry);
    this.#d.client.off("ready", this.#onReady);
    this.#timers.clear();
    await this.executor.close();
  }

  // ---- claiming -----------------------------------------------------------

  #limit(): number {
    const capacity = this.executor.concurrency;
    if (this.#s.prefetch !== undefined) return capacity + this.#s.prefetch;
    // Until jobs were timed, keep one extra job per slot. Then hold enough to
    // keep the threads busy for four claim round trips at the observed pace:
    // many for jobs shorter than a round trip, none for long ones.
    if (this.#msPerJob < 0) return capacity * 2;
    const extra = Math.floor((4 * this.#avgClaimMs) / Math.max(this.#msPerJob, 0.001));
    return capacity + Math.min(extra, MAX_PREFETCH);
  }

  #wake(): void {
    this.#wakeGen++;
    this.#maybeMore = true;
    this.#claim();
  }

  #claim(): void {
    if (this.#claiming || this.#closing || !this.#maybeMore) return;
    const limit = this.#limit();
    const want = Math.min(limit - this.#waiting.length - this.#active, MAX_CLAIM);
    if (want <= 0) return;
    // While jobs still wait here, top up only once half the room is free:
    // many tiny claims cost more than a few large ones.
    if (this.#waiting.length > 0 && want < Math.ceil(limit / 2)) return;
    this.#claiming = true;
    const gen = this.#wakeGen;
    const k = this.#d.keys;
    const t0 = performance.now();
    this.#claimDone = this.#d.scripts
      .runBuffer(
        "claim",
        [k.ready, k.delayed, k.pending, k.leases],
        [this.id, want, this.#s.leaseMs],
      )
      .then(
        (reply) => {
          this.#avgClaimMs = this.#avgClaimMs * 0.8 + (performance.now() - t0) * 0.2;
          const r = reply as Buffer[];
          const claimed = unpackClaims(r[1]!);
          const got = claimed.length;
          for (const c of claimed) {
            const job: HeldJob = {
              id: c.id,
              task: c.task,
              token: `${this.id}:${c.attempt}`,
              attempt: c.attempt,
              maxRetries: c.maxRetries,
              args: c.args,
              state: "waiting",
              run: undefined,
              lost: false,
              handedBack: false,
            };
            this.#held.set(c.id, job);
            this.#waiting.push(job);
          }
          const due = r[0]!.toString("latin1");
          if (due !== "") this.#scheduleDue(Number(due));
          this.#maybeMore = got >= want || this.#wakeGen !== gen;
          this.#claiming = false;
          // While closing, pump and claim do nothing: close() hands these back.
          this.#pump();
          this.#claim();
        },
        (error) => {
          this.#claiming = false;
          this.#transient("claiming jobs", error);
          // The poll timer or the next ready connection tries again.
        },
      );
  }

  #scheduleDue(at: number): void {
    // Times are Redis's clock; the local clock may differ a little, and the
    // poll timer is the safety net either way.
    if (at >= this.#dueAt) return;
    clearTimeout(this.#dueTimer);
    this.#dueAt = at;
    this.#dueTimer = setTimeout(
      () => {
        this.#dueAt = Number.POSITIVE_INFINITY;
        this.#wake();
      },
      Math.max(0, Math.min(at - Date.now(), this.#s.pollIntervalMs)) + 2,
    );
  }

  #onControl(message: ControlMessage): void {
    if (message.kind === "wake") this.#wake();
    else if (message.kind === "due") this.#scheduleDue(message.at);
    else if (message.kind === "cancel") this.cancelLocal(message.jobId);
  }

  // ---- running ------------------------------------------------------------

  #pump(): void {
    const executor = this.executor;
    while (!this.#closing && executor.hasCapacity && this.#waiting.length > 0) {
      this.#start(this.#waiting.shift()!);
    }
  }

  #start(job: HeldJob): void {
    const def = findTask(job.task);
    if (def === undefined) {
      // Never import anything named by a job record: only tasks this process registered run.
      this.#end({
        job,
        kind: "f",
        error: `unknown task "${job.task}": no task of that name is registered in this worker`,
        code: ErrorCode.UNKNOWN_TASK,
        delayMs: 0,
        durationMs: 0,
      });
      return;
    }
    const broken = this.executor.brokenModule(def.moduleUrl);
    if (broken !== undefined) {
      this.#end({ job, ...this.#failure(broken), kind: "f", delayMs: 0, durationMs: 0 });
      return;
    }
    job.state = "running";
    this.#active++;
    const attempt = this.executor.run(
      {
        jobId: job.id,
        task: def,
        args: job.args,
        encoding: job.args === undefined ? ArgsEncoding.NONE : ArgsEncoding.MSGPACK,
        attempt: job.attempt,
        encodeResult: true,
      },
      (outcome, a) => this.#settled(job, def, outcome, a),
    );
    job.run = attempt;
    if (def.timeoutMs !== undefined) this.executor.watchTimeout(attempt, def.timeoutMs);
  }

  #failure(error: SerializedError): { error: string; code: string } {
    return { error: errorMessage(error), code: error.code ?? "" };
  }

  #settled(job: HeldJob, def: TaskDefinition, outcome: AttemptOutcome, attempt: Attempt): void {
    this.#active--;
    job.run = undefined;
    const now = performance.now();
    const durationMs = attempt.elapsedMs(now);
    this.#measurePace(now, durationMs);
    if (job.lost || job.handedBack) {
      this.#held.delete(job.id);
      if (job.lost && outcome.kind !== "cancelled") {
        this.#s.logger.warn(
          `rapidai: the answer of job ${job.id} (attempt ${job.attempt}) was dropped: its lease had expired and the job was taken over`,
        );
      }
    } else {
      const decision = decide(outcome, job.attempt, job.maxRetries, def.backoff, def.timeoutMs);
      switch (decision.to) {
        case "completed":
          this.#end({ job, kind: "complete", result: resultString(decision.result), durationMs });
          break;
        case "cancelled":
          this.#end({ job, kind: "c", error: "", code: "", delayMs: 0, durationMs });
          break;
        case "failed":
          this.#end({ job, kind: "f", ...this.#failure(decision.error), delayMs: 0, durationMs });
          break;
        case "pending":
          this.#end({
            job,
            kind: "r",
            ...this.#failure(decision.error),
            delayMs: Math.ceil(decision.delayMs),
            durationMs,
          });
          break;
        case "requeued":
          this.#end({ job, kind: "requeue" });
          break;
      }
    }
    if (this.#active === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
    this.#pump();
    this.#claim();
  }

  /**
   * The pace, ms between two jobs ending here, is only measured while the
   * threads are busy: an idle gap says nothing about it, and then a job's
   * own time stands for it. Short jobs end in bursts (a thread answers a
   * batch at once), so it is measured over windows of at least 8 ms.
   */
  #measurePace(now: number, durationMs: number): void {
    let pace: number;
    if (this.#active + 1 < this.executor.concurrency) {
      this.#paceFrom = 0;
      pace = durationMs;
    } else if (this.#paceFrom === 0) {
      this.#paceFrom = now;
      this.#paceEnds = 0;
      return;
    } else {
      this.#paceEnds++;
      const span = now - this.#paceFrom;
      if (span < 8) return;
      pace = span / this.#paceEnds;
      this.#paceFrom = now;
      this.#paceEnds = 0;
    }
    this.#msPerJob = this.#msPerJob < 0 ? pace : this.#msPerJob * 0.8 + pace * 0.2;
  }

  #onProgress(jobId: string, value: unknown): void {
    const job = this.#held.get(jobId);
    if (job === undefined || job.state !== "running" || job.lost) return;
    let bytes: Buffer;
    try {
      bytes = encodeMsgpack(value);
    } catch {
      return;
    }
    this.#progress.set(jobId, { job, value: bytes });
    this.#scheduleFlush();
  }

  #leaseLost(id: string): void {
    const job = this.#held.get(id);
    if (job === undefined || job.lost || job.state === "ending") return;
    job.lost = true;
    this.#s.logger.warn(
      `rapidai: lost the lease of job ${id} (attempt ${job.attempt}): another worker took it over; stopping it here`,
    );
    if (job.state === "waiting") {
      const i = this.#waiting.indexOf(job);
      if (i >= 0) this.#waiting.splice(i, 1);
      this.#held.delete(id);
    } else if (job.run !== undefined) {
      this.executor.stop(job.run, CancelFlag.CANCELLED);
    }
  }

  // ---- writing back ---------------------------------------------------------

  #end(ending: Ending): void {
    ending.job.state = "ending";
    this.#endings.push(ending);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushing !== undefined) {
      this.#flushQueued = true;
      return;
    }
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    const run = () => {
      this.#flushQueued = false;
      this.#flushing = this.#flush()
        .catch((error) => this.#transient("writing finished jobs", error))
        .finally(() => {
          this.#flushing = undefined;
          if (this.#flushQueued || this.#endings.length > 0 || this.#progress.size > 0) {
            this.#flushQueued = false;
            if (this.#flushRetry === undefined) this.#scheduleFlush();
          }
        });
    };
    // Ends that arrive together go out in one call. While short jobs end in
    // quick succession, wait a little longer (at most a few ms) to fill a
    // batch: fewer, larger calls cost Redis and this thread much less.
    const wait = this.#closing
      ? 0
      : Math.min(FLUSH_WAIT_MS, (FLUSH_BATCH - this.#endings.length) * this.#msPerJob);
    if (wait >= 1) setTimeout(run, wait);
    else setImmediate(run);
  }

  async #flush(): Promise<void> {
    const endings = this.#endings;
    const progress = this.#progress;
    if (endings.length === 0 && progress.size === 0) return;
    this.#endings = [];
    this.#progress = new Map();
    const k = this.#d.keys;
    if (progress.size > 0) {
      const args: (string | number | Uint8Array)[] = [progress.size];
      for (const [id, p] of progress) args.push(id, p.job.token, p.value);
      // Progress is advisory: a lost update is not retried.
      void this.#d.scripts.run("progress", [k.leases], args).catch(() => 0);
    }
    const completes: Extract<Ending, { kind: "complete" }>[] = [];
    const fails: Extract<Ending, { kind: "f" | "r" | "c" }>[] = [];
    const requeues: Ending[] = [];
    for (const e of endings) {
      if (e.kind === "complete") completes.push(e);
      else if (e.kind === "requeue") requeues.push(e);
      else fails.push(e);
    }
    const groups: [Ending[], Promise<unknown>][] = [];
    if (completes.length > 0) {
      const packed = packCompletions(
        completes.map((e) => ({
          id: e.job.id,
          token: e.job.token,
          result: e.result,
          durationMs: e.durationMs,
        })),
      );
      groups.push([
        completes,
        this.#d.scripts.run("complete", [k.completed, k.cancelled, k.leases, k.done], [packed]),
      ]);
    }
    if (fails.length > 0) {
      const args: (string | number)[] = [fails.length];
      for (const e of fails) {
        args.push(
          e.job.id,
          e.job.token,
          e.kind,
          e.error,
          e.code,
          e.delayMs,
          Math.round(e.durationMs),
        );
      }
      const keys = [k.ready, k.delayed, k.pending, k.failed, k.cancelled, k.leases, k.done];
      groups.push([fails, this.#d.scripts.run("fail", keys, args)]);
    }
    if (requeues.length > 0) {
      const args: (string | number)[] = [requeues.length];
      for (const e of requeues) args.push(e.job.id, e.job.token);
      const keys = [k.ready, k.pending, k.cancelled, k.leases, k.done];
      groups.push([requeues, this.#d.scripts.run("handBack", keys, args)]);
    }
    const results = await Promise.allSettled(groups.map(([, p]) => p));
    let failedAgain = false;
    groups.forEach(([group], gi) => {
      const r = results[gi]!;
      if (r.status === "rejected") {
        // Keep them for the next try; their leases are still renewed meanwhile.
        this.#endings.push(...group);
        failedAgain = true;
        this.#transient("writing finished jobs", r.reason);
        return;
      }
      const applied = r.value as number[];
      this.#finishedSinceTrim += group.length;
      group.forEach((e, i) => {
        this.#held.delete(e.job.id);
        if (applied[i] !== 1) {
          this.#s.logger.warn(
            `rapidai: the end of job ${e.job.id} (attempt ${e.job.attempt}) was refused: its lease had expired and the job was taken over`,
          );
        }
      });
    });
    if (this.#finishedSinceTrim >= TRIM_BATCH) void this.#trim();
    if (failedAgain && this.#flushRetry === undefined) {
      this.#flushRetry = setTimeout(() => {
        this.#flushRetry = undefined;
        this.#scheduleFlush();
      }, 250);
    }
    this.#claim();
  }

  /** Waits until every end is written, trying for a while when Redis is down. */
  async #drainWrites(): Promise<void> {
    // No use trying past the lease: the jobs run again anyway once it expires.
    const deadline = Date.now() + Math.min(5000, this.#s.leaseMs);
    while (Date.now() < deadline) {
      if (this.#flushing !== undefined) await this.#flushing;
      if (this.#endings.length === 0 && this.#progress.size === 0) return;
      clearTimeout(this.#flushRetry);
      this.#flushRetry = undefined;
      this.#flushing = this.#flush()
        .catch((error) => this.#transient("writing finished jobs", error))
        .finally(() => {
          this.#flushing = undefined;
        });
      await this.#flushing;
      if (this.#endings.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.#endings.length > 0) {
      this.#s.logger.warn(
        `rapidai: ${this.#endings.length} finished jobs could not be written back: Redis is unreachable; their leases will expire and they will run again`,
      );
    }
  }

  async #handBack(jobs: HeldJob[]): Promise<void> {
    if (jobs.length === 0) return;
    for (const job of jobs) {
      job.handedBack = true;
      if (job.state === "waiting") this.#held.delete(job.id);
    }
    const k = this.#d.keys;
    const args: (string | number)[] = [jobs.length];
    for (const job of jobs) args.push(job.id, job.token);
    try {
      await this.#d.scripts.run(
        "handBack",
        [k.ready, k.pending, k.cancelled, k.leases, k.done],
        args,
      );
    } catch (error) {
      this.#transient("handing jobs back", error);
    }
  }

  // ---- upkeep ---------------------------------------------------------------

  /** Recovers jobs whose leases expired, then applies the retention. */
  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    const k = this.#d.keys;
    try {
      for (let round = 0; round < 10; round++) {
        const reply = (await this.#d.scripts.run(
          "expireLeases",
          [k.leases, k.ready, k.pending, k.failed, k.cancelled, k.done, k.delayed],
          [500],
        )) as [number, ...string[]];
        const n = reply[0];
        if (n > 0) {
          this.#s.logger.warn(
            `rapidai: ${n} job(s) had an expired lease and were recovered: ${reply.slice(1, 6).join(", ")}${n > 5 ? ", …" : ""}`,
          );
        }
        if (n < 500) break;
      }
    } catch (error) {
      this.#transient("checking leases", error);
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
   * with the jobs that finish however fast they do, and Redis memory stays
   * bounded. (Trimming only at the checks, up to a fixed number per check,
   * fell behind at 20,000 jobs/s.)
   */
  #trim(): Promise<void> {
    if (this.#trimming === undefined) this.#trimming = this.#trimRounds();
    return this.#trimming;
  }

  async #trimRounds(): Promise<void> {
    this.#finishedSinceTrim = 0;
    const k = this.#d.keys;
    const { maxAgeMs, maxCount } = this.#s.retention;
    try {
      for (;;) {
        const n = (await this.#d.scripts.run(
          "trim",
          [k.done, k.completed, k.failed, k.cancelled],
          [maxAgeMs, maxCount, TRIM_BATCH],
        )) as number;
        if (n < TRIM_BATCH || this.#closing) break;
      }
    } catch (error) {
      this.#transient("applying the retention", error);
    } finally {
      this.#trimming = undefined;
    }
  }

  /**
   * Set at the first ready connection. Before it, and for the first 2 s,
   * connection errors are the connection still being made, not news.
   */
  #connected = false;
  #startedAt = Date.now();

  #transient(what: string, error: unknown): void {
    if (isConnectionError(error)) {
      if (this.#downSince === 0 && (this.#connected || Date.now() - this.#startedAt > 2_000)) {
        this.#downSince = Date.now();
        this.#s.logger.warn(
          `rapidai: Redis unreachable while ${what} (${(error as Error)?.message ?? error}); retrying`,
        );
      }
      return;
    }
    // Anything else (a full Redis, a permission missing) repeats at every
    // poll: report each distinct problem at most every 30 s.
    const e = error instanceof Error ? error : new Error(String(error));
    const now = Date.now();
    if (e.message === this.#lastProblem && now - this.#lastProblemAt < 30_000) return;
    this.#lastProblem = e.message;
    this.#lastProblemAt = now;
    this.#d.error(new Error(`${what}: ${e.message}`, { cause: e }));
  }

  #lastProblem = "";
  #lastProblemAt = 0;
}

/**
 * A result as the complete script takes it. Worker threads send msgpack
 * bytes as a latin1 string (see RunRequest.r), and undefined as itself,
 * which travels as no bytes at all.
 */
function resultString(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return encodeMsgpack(value).toString("latin1");
}
