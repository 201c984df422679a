import { performance } from "node:perf_hooks";
import type { Transferable } from "node:worker_threads";
import type { Piscina } from "piscina";
import type { SerializedError } from "../errors.js";
import { Attempt, type AttemptOutcome } from "./attempt.js";
import { QUEUE_OPTIONS } from "./balancer.js";
import {
  type ExecutorOptions,
  parseExecutorOptions,
  type ResolvedExecutorOptions,
} from "./executor-options.js";
import { Outbox } from "./outbox.js";
import { decideOutcome, refusal } from "./outcome.js";
import { startPool } from "./pool-start.js";
import { PoolThreads } from "./pool-threads.js";
import type { Answer, BatchRequest, CancelFlag, RunRequest, WorkerHello } from "./protocol.js";
import { RetiringThreads } from "./retiring.js";
import { hasRoom, PREFETCH_DEPTH, PREFETCHED, ShortTasks } from "./short-tasks.js";
import { AttemptSlots } from "./slots.js";
import { Stopper } from "./stopping.js";
import { putBack } from "./thread-args.js";
import { ThreadChannels } from "./thread-channels.js";

export type { ExecutorOptions } from "./executor-options.js";

import { type ExecutorHooks, type RunSpec, requestOf } from "./run-spec.js";

export type { ExecutorHooks, RunSpec } from "./run-spec.js";

/**
 * The Piscina pool and everything around it: cancel flags in shared memory,
 * one channel per thread for progress, logs and follow-up enqueues, the
 * cancel → grace → terminate sequence, threads that grow, shrink and retire,
 * and the one decision of how each attempt ended. The pool starts at the
 * first `run`.
 */
export class Executor {
  /** Threads at most (maxThreads). */
  readonly threads: number;
  readonly minThreads: number;
  readonly maxThreads: number;
  /** Jobs that run at once, at most: maxThreads × concurrency per thread. */
  readonly concurrency: number;
  readonly cancelGraceMs: number;
  #options: ResolvedExecutorOptions;
  #hooks: ExecutorHooks;
  #pool: Piscina | undefined;
  #slots: AttemptSlots;
  #retiring: RetiringThreads;
  /** Live pool threads. */
  #threads = new PoolThreads();
  #channels: ThreadChannels;
  #stopper: Stopper;
  /** Short jobs to send at the end of this turn. */
  #outbox: Outbox;
  #reportedModules = new Map<string, SerializedError>();
  /** Which tasks are short enough to batch and prefetch. */
  #short = new ShortTasks();

  constructor(options: ExecutorOptions, hooks: ExecutorHooks) {
    const o = parseExecutorOptions(options as Record<string, unknown>);
    this.#options = o;
    this.minThreads = o.minThreads;
    this.maxThreads = o.maxThreads;
    this.threads = o.maxThreads;
    this.concurrency = o.maxThreads * o.concurrencyPerThread;
    this.cancelGraceMs = o.cancelGraceMs;
    this.#hooks = hooks;
    // Sized for the most threads the pool may have (see AttemptSlots).
    this.#slots = new AttemptSlots(this.concurrency + o.maxThreads * PREFETCH_DEPTH);
    this.#retiring = new RetiringThreads(o.maxThreads);
    this.#channels = new ThreadChannels({
      host: () => this.#hooks.host,
      progress: (m) => {
        if (this.#slots.of(m.slot, m.jobId)) this.#hooks.progress(m.jobId, m.value);
      },
      log: (m) => {
        if (this.#slots.of(m.slot, m.jobId)) this.#hooks.log?.(m.jobId, m.lines);
      },
      retire: (threadId) => {
        this.#retiring.said.add(threadId);
        this.#retiring.reap(this.#pool, this.#threads.byId);
      },
      answer: (answer) => this.#answered(answer),
    });
    this.#stopper = new Stopper(
      this.#slots,
      this.#channels,
      hooks.timers,
      () => this.#pool,
      o.cancelGraceMs,
    );
    this.#outbox = new Outbox(
      (request, prefetch, attempts) => this.#send(request, prefetch, attempts),
      () => this.#threads.size,
      (attempts) => {
        if (this.#pool !== undefined) return false;
        // Closed in the same turn: these never reached a thread (not started).
        const closed = new Error("the pool closed before the job was sent");
        for (const attempt of attempts) this.#end(attempt, undefined, closed);
        return true;
      },
      (on) => this.#channels.stream(on),
    );
  }

  /** Attempts handed to the pool now. */
  get active(): number {
    return this.#slots.active;
  }

  /** Threads alive now (between minThreads and maxThreads once started). */
  get liveThreads(): number {
    return this.#threads.size;
  }

  /** Room for another attempt (see hasRoom). */
  get hasCapacity(): boolean {
    return hasRoom(this.#slots, this.concurrency);
  }

  /** Stops the attempt with `ERR_JOB_TIMEOUT` once it has run `timeoutMs` (see Stopper). */
  watchTimeout(attempt: Attempt, timeoutMs: number): void {
    this.#stopper.watchTimeout(attempt, timeoutMs);
  }

  /** Asks a running attempt to stop, then terminates its thread after the grace period. */
  stop(attempt: Attempt, why: typeof CancelFlag.CANCELLED | typeof CancelFlag.TIMED_OUT): void {
    this.#stopper.stop(attempt, why);
  }

  /** Stops every attempt at once, with no grace: used by `close()` after its timeout. */
  terminateAll(): void {
    this.#stopper.terminateAll();
  }

  /** Starts the threads now instead of at the first job. */
  start(): void {
    if (this.#pool !== undefined) return;
    const pool = startPool(this.#options, this.#slots, this.#retiring, this.#hooks);
    this.#pool = pool;
    // A thread ended (idle, retired, crashed or terminated): its answers first, then its state.
    this.#threads.follow(pool, (threadId) => {
      this.#retiring.forget(threadId);
      this.#channels.forget(threadId, this.#answered);
    });
    pool.on("message", (message: unknown) => {
      const hello = message as WorkerHello;
      if (hello !== null && typeof hello === "object" && hello.rapidaiHello !== undefined)
        this.#channels.attach(hello.rapidaiHello, hello.threadId, hello.results);
    });
    // Piscina reports thread errors on the pool too; each one already failed its task.
    pool.on("error", () => {});
  }

  /** The module of a task that could not be imported, with the error, once reported. */
  brokenModule(moduleUrl: string | undefined): SerializedError | undefined {
    return moduleUrl === undefined ? undefined : this.#reportedModules.get(moduleUrl);
  }

  /**
   * Runs one attempt. `done` is called exactly once with its outcome, never
   * synchronously from `run`. The caller must check {@link hasCapacity}
   * first. A task whose module is known to be broken, or moved arguments
   * that did not come back, end at once as a permanent error, with no thread.
   */
  run(spec: RunSpec, done: (outcome: AttemptOutcome, attempt: Attempt) => void): Attempt {
    const moduleUrl = spec.task.moduleUrl ?? "";
    const refused = refusal(spec, this.brokenModule(spec.task.moduleUrl));
    if (refused !== undefined) {
      const attempt = new Attempt(spec.jobId, spec.task.name, moduleUrl, -1, done, now());
      queueMicrotask(() => done({ kind: "error", error: refused, permanent: true }, attempt));
      return attempt;
    }
    this.start();
    // Beyond one job per concurrent slot, this is a prefetch (see hasCapacity).
    const prefetch = this.#slots.active >= this.concurrency;
    const slot = this.#slots.take();
    const attempt = new Attempt(spec.jobId, spec.task.name, moduleUrl, slot, done, now());
    attempt.number = spec.attempt;
    this.#slots.hold(attempt);
    const request = requestOf(spec, slot);
    if (spec.timeoutMs !== undefined) this.watchTimeout(attempt, spec.timeoutMs);
    attempt.short = this.#short.isShort(spec.task.name);
    if (spec.moved !== undefined) {
      // Its buffers go in the transfer list and come back with its answer
      // (an Answer, errors included): sent alone, and only to a
      // thread with a free slot. A short one beyond the free slots waits in
      // the pool's queue on this thread, buffers still here, and the pool
      // hands it to the thread whose answer frees one, without waiting for
      // this thread: no buffer waits in a thread that could die under
      // another job.
      attempt.moved = spec.moved;
      request.buffers = spec.moved.buffers;
      request.shared = spec.moved.shared;
      if (spec.moved.flat !== undefined) request.flat = spec.moved.flat;
      this.#send(request, false, [attempt], spec.moved.buffers);
    } else if (attempt.short) {
      // Sent at the end of this turn, with the other short jobs started in it.
      this.#outbox.add(attempt, request);
    } else {
      this.#send(request, prefetch, [attempt]);
    }
    return attempt;
  }

  #send(
    request: RunRequest | BatchRequest,
    prefetch: boolean,
    attempts: Attempt[],
    transferList?: Transferable[],
  ): void {
    if (prefetch) (request as unknown as Record<symbol, unknown>)[QUEUE_OPTIONS] = PREFETCHED;
    const single = !("batch" in request);
    this.#pool!.run(request, transferList === undefined ? undefined : { transferList }).then(
      (value) => this.#taskDone(single, attempts, value, undefined),
      (error) => this.#taskDone(single, attempts, undefined, error ?? new Error("attempt failed")),
    );
  }

  /** A pool task (one attempt or a batch) answered or failed. */
  #taskDone(single: boolean, attempts: Attempt[], value: unknown, error: unknown): void {
    if (single) this.#settle(attempts[0]!, value, error);
    else this.#settleBatch(attempts, error);
    // Piscina counts the task off its thread only now, so this is where a
    // retired thread holding nothing more is let go (its last attempts may
    // have ended earlier, their answers read under another batch's).
    this.#retiring.reap(this.#pool, this.#threads.byId);
  }

  /**
   * A batch ended: every answer its thread gave is on that thread's result
   * channel. An attempt with no answer was still queued or running when the
   * thread died: the owner slot tells which (see decideOutcome).
   */
  #settleBatch(attempts: Attempt[], error: unknown): void {
    this.#channels.drainProgress();
    this.#channels.drainAnswers(
      this.#answered,
      error === undefined ? undefined : this.#threads.alive,
    );
    const missing = error ?? new Error("the batch ended with no answer for this job");
    for (const attempt of attempts) {
      if (this.#slots.holds(attempt)) this.#end(attempt, undefined, missing);
    }
  }

  /** A batched attempt's answer, read from its thread's result channel. */
  readonly #answered = (answer: Answer): void => {
    const attempt = this.#slots.of(answer.slot, answer.jobId);
    if (attempt === undefined) return;
    this.#takeBack(attempt, answer);
    this.#end(attempt, answer.value, answer.error);
  };

  /** Ends the pool. Running attempts are terminated. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    this.#channels.close();
    this.#retiring.said.clear();
    if (pool !== undefined) await pool.destroy();
    this.#threads.clear();
  }

  #settle(attempt: Attempt, value: unknown, error: unknown): void {
    if (!this.#slots.holds(attempt)) return;
    this.#channels.drainProgress();
    if (attempt.moved !== undefined && error === undefined) {
      const answer = value as Answer;
      this.#takeBack(attempt, answer);
      this.#end(attempt, answer.value, answer.error);
      return;
    }
    this.#end(attempt, value, error);
  }

  /** Puts the argument buffers an answer handed back home, for a retry. */
  #takeBack(attempt: Attempt, answer: Answer): void {
    if (answer.returned !== undefined && attempt.moved !== undefined)
      putBack(attempt.moved, answer.returned);
  }

  #end(attempt: Attempt, value: unknown, error: unknown): void {
    // A thread that died under its job never cleared the owner: that tells a
    // crash from a job that was only waiting in the dead thread's queue. A
    // negative owner means the thread was still importing the task's module.
    const owner = this.#slots.release(attempt);
    this.#hooks.timers.remove(attempt.timeoutEntry);
    this.#hooks.timers.remove(attempt.graceEntry);
    this.#short.record(attempt.task, attempt.elapsedMs());
    const outcome = decideOutcome(attempt, value, error, owner, this.#reportBrokenModule);
    if (outcome.kind === "ok") this.#channels.warm(attempt.moduleUrl);
    attempt.done(outcome, attempt);
  }

  readonly #reportBrokenModule = (attempt: Attempt, error: SerializedError): void => {
    if (this.#reportedModules.has(attempt.moduleUrl)) return;
    this.#reportedModules.set(attempt.moduleUrl, error);
    const e = new Error(error.message) as Error & { code?: string };
    e.code = error.code;
    this.#hooks.error(e);
  };
}

function now(): number {
  return performance.now();
}
