import type { Firing, ScheduleStore } from "./schedule-store.js";

/** What the {@link Scheduler} asks the queue to enqueue for one firing. */
export interface ScheduledJob {
  /** `sched:<schedule id>:<fireAt>`: enqueue it idempotently (an id that exists stores nothing). */
  jobId: string;
  task: string;
  /** The arguments as the store encoded them ({@link ScheduleStore.decodeArgs} reads them). */
  args: Uint8Array;
  scheduleId: string;
  /** ms of the tick. */
  fireAt: number;
}

/** Enqueues one firing's job; resolves once it is stored. */
export type EnqueueScheduled = (job: ScheduledJob) => Promise<unknown>;

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** The clock, in ms. @default Date.now */
  now?: () => number;
  /**
   * Longest sleep between two looks at the store: another process may have
   * added a schedule that is due sooner ({@link Scheduler.wake} shortens it).
   * @default 5_000
   */
  refreshMs?: number;
  /** Firings claimed per store call. @default 100 */
  batch?: number;
  /** Wait after a store or enqueue error before trying again. @default 1_000 */
  retryMs?: number;
  /** Told of each store or enqueue error (the scheduler carries on). @default ignore */
  onError?: (error: unknown) => void;
}

/** The longest a Node timer can wait. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * Fires the schedules of one store: one timer for the earliest `nextRunAt`;
 * when it rings, claims what is due and enqueues one job per firing. Any
 * number of schedulers (processes) may run against one store: the store's
 * claim hands each tick to one of them, and the firing's job id makes even a
 * repeated hand-out one job.
 */
export class Scheduler {
  readonly #store: ScheduleStore;
  readonly #enqueue: EnqueueScheduled;
  readonly #now: () => number;
  readonly #refreshMs: number;
  readonly #batch: number;
  readonly #retryMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #stopped = false;

  constructor(store: ScheduleStore, enqueue: EnqueueScheduled, options: SchedulerOptions = {}) {
    this.#store = store;
    this.#enqueue = enqueue;
    this.#now = options.now ?? Date.now;
    this.#refreshMs = options.refreshMs ?? 5_000;
    this.#batch = options.batch ?? 100;
    this.#retryMs = options.retryMs ?? 1_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Starts firing (idempotent). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopped = false;
    this.wake();
  }

  /** Stops firing; resolves once a round in progress has ended (its firings enqueued). */
  async stop(): Promise<void> {
    this.#started = false;
    this.#stopped = true;
    this.#clearTimer();
    await this.#running;
  }

  /**
   * Looks at the store now: a schedule was added or changed (here, or in
   * another process, which Redis announces on the control channel).
   */
  wake(): void {
    if (!this.#started) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#clearTimer();
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
      // A wake that came after the round's last look at the store.
      if (this.#again) this.wake();
    });
  }

  /**
   * Runs one round now, after any round in progress: claims what is due and
   * enqueues it. Resolves once its firings are enqueued. The timer does the
   * same; this is for a caller that must know the round has ended.
   */
  async tick(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    this.#clearTimer();
    const round = this.#round().finally(() => {
      this.#running = undefined;
    });
    this.#running = round;
    await round;
  }

  async #round(): Promise<void> {
    let delay = this.#refreshMs;
    try {
      do {
        this.#again = false;
        const firings = await this.#store.claimDue(this.#now(), this.#batch);
        const failed = await this.#fire(firings);
        if (failed) {
          delay = this.#retryMs;
          this.#again = false;
          break;
        }
        if (firings.length >= this.#batch) this.#again = true;
        const next = await this.#store.nextDueAt();
        if (next !== undefined) delay = Math.min(this.#refreshMs, next - this.#now());
      } while (this.#again && !this.#stopped);
    } catch (error) {
      this.#onError(error);
      delay = this.#retryMs;
    }
    if (!this.#started) return;
    // A Node timer may ring a little early; a round that finds nothing due just sleeps again.
    this.#timer = setTimeout(() => this.wake(), Math.min(MAX_TIMER, Math.max(0, delay)));
    this.#timer.unref();
  }

  /** Enqueues every firing, then acks it. True if one failed (it stays in flight and is reclaimed). */
  async #fire(firings: Firing[]): Promise<boolean> {
    const results = await Promise.allSettled(
      firings.map(async (f) => {
        await this.#enqueue({
          jobId: f.jobId,
          task: f.schedule.task,
          args: f.schedule.args,
          scheduleId: f.schedule.id,
          fireAt: f.fireAt,
        });
        await this.#store.ack(f);
      }),
    );
    let failed = false;
    for (const r of results) {
      if (r.status === "rejected") {
        failed = true;
        this.#onError(r.reason);
      }
    }
    return failed;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
