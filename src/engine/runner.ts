import { performance } from "node:perf_hooks";
import type { Attempt, AttemptOutcome } from "../executor/attempt.js";
import type { Executor } from "../executor/executor.js";
import { CancelFlag } from "../executor/protocol.js";
import { findTask } from "../registry.js";
import type { TaskDefinition } from "../task-definition.js";
import { attemptSpan } from "../tracing.js";
import { type Held, HeldJobs } from "./held-jobs.js";
import { endingOf, spanEnd, unknownTaskEnding } from "./outcome.js";
import { PaceMeter } from "./pace-meter.js";
import type { QueueLogger } from "./queue-options.js";
import { runSpecOf, settlesWithin, warnDropped, warnLost, warnRefused } from "./runner-notes.js";
import type { ClaimedJob, Ending, JobStore, Refusal, RunnerPort } from "./store.js";
import { WriteBack } from "./write-back.js";

export type RunnerLog = QueueLogger;

/** Jobs one claim asks for at most. */
const MAX_CLAIM = 1000;

/**
 * The one path every job takes, whatever the store: claim → run on the
 * executor → decide how the attempt ended → write the ending back. Stores
 * that answer inline (memory) are claimed from one job at a time as slots
 * free up, so priorities hold exactly; remote ones (Redis) are claimed from
 * in batches, with a prefetch that follows the pace of the jobs.
 */
export class Runner implements RunnerPort {
  readonly #store: JobStore;
  readonly #executor: Executor;
  readonly #log: RunnerLog;
  readonly #held = new HeldJobs();
  readonly #pace: PaceMeter;
  readonly #writes: WriteBack;
  #active = 0;
  #claiming = false;
  /** The claim in flight, so close() can wait for what it brings. */
  #claimDone: Promise<void> = Promise.resolve();
  #maybeMore = true;
  #wakeGen = 0;
  #closing = false;
  #idleWaiters: (() => void)[] = [];

  readonly #tasks: () => TaskDefinition[];

  constructor(store: JobStore, executor: Executor, log: RunnerLog, tasks: () => TaskDefinition[]) {
    this.#tasks = tasks;
    this.#store = store;
    this.#executor = executor;
    this.#log = log;
    this.#pace = new PaceMeter(executor);
    this.#writes = new WriteBack(store, {
      // Batch endings only while more are coming: at idle (no other job
      // running or claimed here) an ending waits on no timer.
      waitMs: (pending) =>
        this.#active + this.#held.waiting === 0
          ? 0
          : store.flushWaitMs(pending, this.#pace.msPerJob),
      written: (endings, applied) => this.#written(endings, applied),
    });
  }

  /** Jobs running on the pool now. */
  get active(): number {
    return this.#active;
  }

  start(): void {
    this.#executor.start();
    this.#store.attach(this);
    this.wake();
  }

  // ---- RunnerPort ------------------------------------------------------------

  wake(): void {
    this.#wakeGen++;
    this.#maybeMore = true;
    if (this.#store.claimsInline) this.#pump();
    else this.#claim();
  }

  cancel(jobId: string): void {
    const h = this.#held.get(jobId);
    if (h === undefined || h.lost || h.handedBack) return;
    if (h.state === "waiting") {
      this.#held.unwait(h);
      this.#end({ job: h.job, kind: "cancelled", durationMs: undefined });
    } else if (h.state === "running" && h.run !== undefined) {
      this.#executor.stop(h.run, CancelFlag.CANCELLED);
    }
  }

  release(): void {
    const notStarted = this.#held.takeLine();
    if (notStarted.length > 0) void this.#handBack(notStarted);
  }

  lost(jobId: string, why: Refusal = "taken", token?: string): void {
    const h = this.#held.get(jobId);
    if (h === undefined || h.lost || h.state === "ending") return;
    if (token !== undefined && h.job.token !== token) return;
    h.lost = why;
    warnLost(this.#log, h.job, why);
    if (h.state === "waiting") {
      this.#held.unwait(h);
      this.#held.delete(jobId);
    } else if (h.run !== undefined) {
      this.#executor.stop(h.run, CancelFlag.CANCELLED);
    }
  }

  *held(): Iterable<ClaimedJob> {
    for (const h of this.#held.values()) if (!h.lost) yield h.job;
  }

  tasks(): TaskDefinition[] {
    return this.#tasks();
  }

  /** `currentJob().progress()` of a job running here. */
  progress(jobId: string, value: unknown): void {
    const h = this.#held.get(jobId);
    if (h === undefined || h.state !== "running" || h.lost) return;
    this.#store.progress(h.job, value);
  }

  /** `currentJob().log()` lines of a job running here. */
  log(jobId: string, lines: string[]): void {
    const h = this.#held.get(jobId);
    if (h === undefined || h.lost) return;
    this.#store.appendLogs([{ job: h.job, lines }]);
  }

  /** True when this runner holds the job now. */
  holds(jobId: string): boolean {
    return this.#held.has(jobId);
  }

  problem(what: string, error: unknown): void {
    this.#store.problem(what, error);
  }

  // ---- claiming ------------------------------------------------------------

  #claim(): void {
    if (this.#claiming || this.#closing || !this.#maybeMore) return;
    const capacity = this.#executor.concurrency;
    const limit = capacity + this.#store.prefetch(capacity, this.#pace);
    const want = Math.min(limit - this.#held.waiting - this.#active, MAX_CLAIM);
    if (want <= 0) return;
    // While jobs still wait here, top up only once half the room is free:
    // many tiny claims cost more than a few large ones.
    if (this.#held.waiting > 0 && want < Math.ceil(limit / 2)) return;
    this.#claiming = true;
    const gen = this.#wakeGen;
    const t0 = performance.now();
    this.#claimDone = Promise.resolve(this.#store.claim(want)).then(
      (jobs) => {
        this.#pace.claimTook(performance.now() - t0);
        for (const job of jobs) this.#hold(job);
        this.#maybeMore = jobs.length >= want || this.#wakeGen !== gen;
        this.#claiming = false;
        // While closing, pump and claim do nothing: close() hands these back.
        this.#pump();
        this.#claim();
      },
      (error) => {
        this.#claiming = false;
        // The store's poll or its next ready connection wakes us again.
        this.problem("claiming jobs", error);
      },
    );
  }

  #hold(job: ClaimedJob): Held {
    // Claimed again while an older attempt of it is still held here (its
    // lease expired meanwhile, say while this process stalled): that
    // attempt lost its claim, and must not take the new one's place.
    if (this.#held.has(job.id)) this.lost(job.id);
    return this.#held.add(job);
  }

  // ---- running -------------------------------------------------------------

  #pump(): void {
    const executor = this.#executor;
    const inline = this.#store.claimsInline;
    while (!this.#closing && executor.hasCapacity) {
      let h = this.#held.next();
      if (h === undefined) {
        if (!inline || !this.#maybeMore) return;
        const [job] = this.#store.claim(1) as ClaimedJob[];
        if (job === undefined) {
          this.#maybeMore = false;
          return;
        }
        h = this.#hold(job);
        this.#held.next();
      }
      this.#start(h);
    }
  }

  #start(h: Held): void {
    const job = h.job;
    const def = findTask(job.task);
    // Never import anything named by a job record: only tasks registered here run.
    if (def === undefined) {
      this.#end(unknownTaskEnding(job));
      return;
    }
    h.state = "running";
    this.#active++;
    h.span = attemptSpan(job.trace, {
      task: job.task,
      jobId: job.id,
      backend: this.#store.backend,
      attempt: job.attempt,
    });
    const timeoutMs = job.timeoutMs ?? def.timeoutMs;
    h.run = this.#executor.run(
      runSpecOf(job, def, this.#store.encodesResults, timeoutMs),
      (outcome, attempt) => this.#settled(h, def, outcome, attempt, timeoutMs),
    );
  }

  #settled(
    h: Held,
    def: TaskDefinition,
    outcome: AttemptOutcome,
    attempt: Attempt,
    timeoutMs: number | undefined,
  ): void {
    this.#active--;
    h.run = undefined;
    const now = performance.now();
    const durationMs = attempt.elapsedMs(now);
    this.#pace.jobEnded(now, durationMs, this.#active);
    if (h.lost || h.handedBack) {
      h.span?.end({ outcome: "retrying" });
      this.#held.forget(h.job);
      if (h.lost && outcome.kind !== "cancelled") warnDropped(this.#log, h.job, h.lost);
    } else {
      const ending = endingOf(h.job, def, outcome, durationMs, timeoutMs);
      h.span?.end(spanEnd(ending));
      this.#end(ending);
    }
    if (this.#active === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
    this.#pump();
    this.#claim();
  }

  // ---- writing back ----------------------------------------------------------

  #end(ending: Ending): void {
    const h = this.#held.get(ending.job.id);
    if (h !== undefined && h.job === ending.job) h.state = "ending";
    this.#writes.add(ending);
  }

  #written(endings: readonly Ending[], applied: readonly (boolean | Refusal)[]): void {
    for (let i = 0; i < endings.length; i++) {
      const e = endings[i]!;
      this.#held.forget(e.job);
      const a = applied[i]!;
      if (a !== true) warnRefused(this.#log, e.job, a);
    }
    if (this.#store.claimsInline) this.#pump();
    else this.#claim();
  }

  // ---- closing -------------------------------------------------------------

  /**
   * Stops taking work. Jobs claimed but not started go back at once; running
   * jobs get `timeoutMs` to finish (no limit when undefined), then are
   * handed back and their threads terminated. Resolves once every ending is
   * written (or the store stayed unreachable for a while) and the pool is down.
   */
  async close(timeoutMs: number | undefined): Promise<void> {
    this.#closing = true;
    await this.#claimDone;
    const notStarted = this.#held.takeLine();
    if (notStarted.length > 0) await this.#handBack(notStarted);
    if (this.#active > 0) {
      const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      if (!(await settlesWithin(idle, timeoutMs))) {
        if (this.#store.shared) {
          const running = [...this.#held.values()].filter((h) => h.state === "running" && !h.lost);
          await this.#handBack(running);
        }
        this.#executor.terminateAll();
        await idle;
      }
    }
    await this.#writes.drain();
    await this.#store.detach();
    await this.#executor.close();
  }

  async #handBack(held: Held[]): Promise<void> {
    if (held.length === 0) return;
    for (const h of held) {
      h.handedBack = true;
      if (h.state === "waiting") this.#held.delete(h.job.id);
    }
    try {
      await this.#store.handBack(held.map((h) => h.job));
    } catch (error) {
      this.problem("handing jobs back", error);
    }
  }
}
