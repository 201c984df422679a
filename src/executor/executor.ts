import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { type MessagePort, receiveMessageOnPort, type Transferable } from "node:worker_threads";
import * as Comlink from "comlink";
import type { Piscina } from "piscina";
import { ErrorCode, type SerializedError, serializeError } from "../errors.js";
import type { TaskDefinition } from "../task-definition.js";
import type { WorkerHost } from "../thread-role.js";
import type { TimerQueue } from "../timer-queue.js";
import { Attempt, type AttemptOutcome } from "./attempt.js";
import { balancer, PREFETCH_TASKS, QUEUE_OPTIONS } from "./balancer.js";
import {
  type ExecutorOptions,
  parseExecutorOptions,
  type ResolvedExecutorOptions,
} from "./executor-options.js";
import { hostEndpoint } from "./host-endpoint.js";
import { decideOutcome } from "./outcome.js";
import {
  type AbortMessage,
  type Answer,
  type ArgsEncoding,
  type BatchRequest,
  CancelFlag,
  type EngineWorkerData,
  type HostWire,
  type LogMessage,
  type ProgressMessage,
  type RetireMessage,
  type RunRequest,
  type WorkerHello,
} from "./protocol.js";
import { type MovedArgs, movedIntact } from "./thread-args.js";
import { threadPreloads } from "./thread-loader.js";

export type { ExecutorOptions } from "./executor-options.js";

export interface ExecutorHooks {
  /** Handles `task.enqueue()` called inside a job. */
  host: WorkerHost;
  /** Largest encoded result a thread returns (with `encodeResult`), in bytes. @default no limit */
  maxResultBytes?: number;
  /** `currentJob().progress(value)` arrived for a running attempt. */
  progress(jobId: string, value: unknown): void;
  /**
   * `currentJob().log(text)` lines of a running attempt, in order, in
   * batches; every line of an attempt arrives before its `done`.
   */
  log?(jobId: string, lines: string[]): void;
  /** A problem outside any one job (a task module that cannot be imported). */
  error(error: Error): void;
  timers: TimerQueue;
}

/** One attempt to run: what the executor needs from the queue. */
export interface RunSpec {
  jobId: string;
  task: TaskDefinition;
  args: Uint8Array | undefined;
  encoding: ArgsEncoding;
  /**
   * The buffers that `prepareThreadArgs` detached from the caller (with
   * `ArgsEncoding.V8_MOVED`): they go to the thread in its transfer list and
   * come back into this same object when the attempt ends.
   */
  moved?: MovedArgs;
  attempt: number;
  /** Ask the worker for the result as msgpack bytes. */
  encodeResult: boolean;
  /** The results of the jobs it depended on, by job id. */
  dependencies?: Record<string, unknown>;
  /** Stop the attempt with `ERR_JOB_TIMEOUT` after this many ms of running (the job's or its task's). */
  timeoutMs?: number;
}

// Piscina loads when a pool starts, not at import: worker threads import this
// package through the task modules they run and never start a pool.
const require = createRequire(import.meta.url);

const workerUrl = new URL("../../workers/job-worker.js", import.meta.url);

// Jobs of tasks that take less than this on average are batched: several go
// to a thread in one message, and each thread gets more queued behind the
// one it runs, so it starts the next job without a round trip to the main
// thread and the main thread seldom pays to wake it. Longer jobs gain
// nothing from it, and a queued job could wait behind a long one while
// another thread is free.
const PREFETCH_BELOW_MS = 1;
// Jobs one thread may hold queued beyond those it runs, while all are short:
// two full batches, so a thread has the next batch in hand when one ends.
const PREFETCH_DEPTH = 32;
// Jobs per batch message at most. Measured on 2 threads with no-op jobs, the
// CPU cost per job of pool, messages and wake-ups, all threads together: 19 µs
// one job per message, 11 µs two, 4.2 µs eight, 3.2 µs sixteen.
const BATCH_MAX = 16;

/** A pool thread as Piscina's load balancer and events show it. */
interface PoolWorker {
  readonly id: number;
  readonly currentUsage: number;
}

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
  #flagsBuffer: SharedArrayBuffer;
  #flags: Int32Array;
  #ownersBuffer: SharedArrayBuffer;
  #owners: Int32Array;
  #retiringBuffer: SharedArrayBuffer;
  #retiringTable: Int32Array;
  /** Threads that said they retire, to terminate once their last task is answered. */
  #retired = new Set<number>();
  /** Live pool threads by threadId, as Piscina's events report them. */
  #workers = new Map<number, PoolWorker>();
  #attempts: (Attempt | undefined)[];
  #freeSlots: number[];
  #ports = new Set<MessagePort>();
  /** The host as worker threads call it: errors travel as data, code included. */
  #hostWire: HostWire = {
    enqueue: (task, args, options) =>
      this.#hooks.host.enqueue(task, args, options).then(
        (id) => ({ id }),
        (error: unknown) => ({ error: serializeError(error) }),
      ),
  };
  /** Each thread's channel with the function that handles its messages. */
  #deliver = new Map<MessagePort, (data: unknown) => void>();
  /** Each thread's result channel (batch answers), by threadId. */
  #results = new Map<number, MessagePort>();
  /** Short jobs to send at the end of this turn, in batches. */
  #outbox: [Attempt, RunRequest][] = [];
  #reportedModules = new Map<string, SerializedError>();
  /** Moving average of each task's attempt times, in ms; decides prefetching. */
  #taskMs = new Map<string, number>();

  constructor(options: ExecutorOptions, hooks: ExecutorHooks) {
    const o = parseExecutorOptions(options as Record<string, unknown>);
    this.#options = o;
    this.minThreads = o.minThreads;
    this.maxThreads = o.maxThreads;
    this.threads = o.maxThreads;
    this.concurrency = o.maxThreads * o.concurrencyPerThread;
    this.cancelGraceMs = o.cancelGraceMs;
    this.#hooks = hooks;
    // Slots belong to attempts, not threads: sized for the most threads the
    // pool may have, they stay right as it grows and shrinks.
    const slots = this.concurrency + o.maxThreads * PREFETCH_DEPTH;
    this.#flagsBuffer = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
    this.#flags = new Int32Array(this.#flagsBuffer);
    this.#ownersBuffer = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
    this.#owners = new Int32Array(this.#ownersBuffer);
    // One cell per live thread, twice over: a thread's cell is freed when it ends.
    const cells = 2 * o.maxThreads + 2;
    this.#retiringBuffer = new SharedArrayBuffer(cells * Int32Array.BYTES_PER_ELEMENT);
    this.#retiringTable = new Int32Array(this.#retiringBuffer);
    this.#attempts = new Array(slots).fill(undefined);
    this.#freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /** Attempts handed to the pool now. */
  get active(): number {
    return this.#attempts.length - this.#freeSlots.length;
  }

  /** Threads alive now (between minThreads and maxThreads once started). */
  get liveThreads(): number {
    return this.#workers.size;
  }

  /**
   * Room for another attempt: one per concurrent job, plus PREFETCH_DEPTH
   * per thread while every job in flight is of a task known to be short and has not
   * yet run long, so a prefetched job never waits behind a long one.
   */
  get hasCapacity(): boolean {
    const active = this.active;
    if (active < this.concurrency) return true;
    if (active >= this.#attempts.length) return false;
    const now = performance.now();
    const owners = this.#owners;
    for (const attempt of this.#attempts) {
      if (attempt === undefined) continue;
      if (!attempt.short) return false;
      // Only a job a thread has taken up can be running long: one still
      // queued in a thread (no owner yet) waited, it did not run.
      if (now - attempt.startedAt > PREFETCH_BELOW_MS && Atomics.load(owners, attempt.slot) !== 0)
        return false;
    }
    return true;
  }

  /**
   * Stops the attempt with `ERR_JOB_TIMEOUT` once it has run `timeoutMs`.
   * Its time runs from when a thread takes it up, not from dispatch: a
   * thread still starting (a fresh pool, a replaced thread) or busy with the
   * job before it must not use up the job's time. Until a thread has it, look
   * again in steps of a tenth of the timeout, so the deadline may be late by
   * one step but never early. `run` arms it from `RunSpec.timeoutMs`; a
   * second call for the same attempt does nothing.
   */
  watchTimeout(attempt: Attempt, timeoutMs: number): void {
    if (attempt.timeoutArmed || this.#attempts[attempt.slot] !== attempt) return;
    attempt.timeoutArmed = true;
    const timers = this.#hooks.timers;
    const step = Math.min(50, Math.max(1, Math.ceil(timeoutMs / 10)));
    const check = () => {
      if (this.#attempts[attempt.slot] !== attempt) return;
      attempt.timeoutEntry =
        Atomics.load(this.#owners, attempt.slot) !== 0
          ? timers.add(Date.now() + timeoutMs, () => this.stop(attempt, CancelFlag.TIMED_OUT))
          : timers.add(Date.now() + step, check);
    };
    attempt.timeoutEntry = timers.add(Date.now() + step, check);
  }

  /** Starts the threads now instead of at the first job. */
  start(): void {
    if (this.#pool !== undefined) return;
    const o = this.#options;
    const workerData: EngineWorkerData = {
      rapidai: true,
      flags: this.#flagsBuffer,
      owners: this.#ownersBuffer,
      retiring: this.#retiringBuffer,
      perThread: o.concurrencyPerThread,
      preload: threadPreloads(),
      importTimeoutMs: o.importTimeoutMs,
      maxJobsPerThread: o.maxJobsPerThread,
      maxThreadHeapMb: o.maxThreadHeapMb,
      maxResultBytes: this.#hooks.maxResultBytes ?? 0,
    };
    const { Piscina: Pool } = require("piscina") as typeof import("piscina");
    const pool = new Pool({
      filename: workerUrl.href,
      minThreads: o.minThreads,
      maxThreads: o.maxThreads,
      // Beyond what the thread runs at once: room for the prefetched jobs.
      concurrentTasksPerWorker: o.concurrencyPerThread + PREFETCH_TASKS,
      loadBalancer: balancer(o.concurrencyPerThread, this.#retiringTable, this.#retired),
      idleTimeout: o.idleTimeoutMs,
      // Never refuse a task: jobs in flight are bounded by the slots (hasCapacity),
      // and batches or single jobs beyond what the threads hold wait in its queue.
      maxQueue: Number.POSITIVE_INFINITY,
      workerData,
      ...(o.resourceLimits ? { resourceLimits: o.resourceLimits } : {}),
    });
    this.#pool = pool;
    pool.on("workerCreate", (worker: PoolWorker) => this.#workers.set(worker.id, worker));
    pool.on("workerDestroy", (worker: PoolWorker) => this.#forgetThread(worker.id));
    pool.on("message", (message: unknown) => {
      const hello = message as WorkerHello;
      if (hello !== null && typeof hello === "object" && hello.rapidaiHello !== undefined) {
        this.#attach(hello.rapidaiHello);
        this.#results.set(hello.threadId, hello.results);
      }
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
    const refused = this.#refusal(spec);
    if (refused !== undefined) {
      const attempt = new Attempt(
        spec.jobId,
        spec.task.name,
        moduleUrl,
        -1,
        done,
        performance.now(),
      );
      queueMicrotask(() => done({ kind: "error", error: refused, permanent: true }, attempt));
      return attempt;
    }
    this.start();
    // Beyond one job per concurrent slot, this is a prefetch (see hasCapacity).
    const prefetch = this.active >= this.concurrency;
    const slot = this.#freeSlots.pop()!;
    const attempt = new Attempt(
      spec.jobId,
      spec.task.name,
      moduleUrl,
      slot,
      done,
      performance.now(),
    );
    attempt.number = spec.attempt;
    this.#attempts[slot] = attempt;
    const request: RunRequest = {
      jobId: spec.jobId,
      task: spec.task.name,
      module: moduleUrl,
      args: spec.args,
      encoding: spec.encoding,
      attempt: spec.attempt,
      slot,
      encodeResult: spec.encodeResult,
      ...(spec.dependencies === undefined ? {} : { dependencies: spec.dependencies }),
    };
    if (spec.timeoutMs !== undefined) this.watchTimeout(attempt, spec.timeoutMs);
    attempt.short = (this.#taskMs.get(spec.task.name) ?? PREFETCH_BELOW_MS) < PREFETCH_BELOW_MS;
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
      this.#send(request, false, [attempt], spec.moved.buffers);
      return attempt;
    }
    if (attempt.short) {
      // Sent at the end of this turn, with the other short jobs started in it.
      if (this.#outbox.push([attempt, request]) === 1) queueMicrotask(this.#sendOutbox);
    } else {
      this.#send(request, prefetch, [attempt]);
    }
    return attempt;
  }

  #refusal(spec: RunSpec): SerializedError | undefined {
    const broken = this.brokenModule(spec.task.moduleUrl);
    if (broken !== undefined) return broken;
    if (spec.moved !== undefined && !movedIntact(spec.moved)) {
      return {
        name: "JobError",
        code: ErrorCode.PAYLOAD_CORRUPT,
        message:
          "the buffers moved to this job with move() are gone (detached): it cannot run again",
      };
    }
    return undefined;
  }

  /** Sends the short jobs started this turn: spread over the threads, in batches. */
  readonly #sendOutbox = () => {
    const outbox = this.#outbox;
    this.#outbox = [];
    if (this.#pool === undefined) {
      // Closed in the same turn: these never reached a thread (not started).
      const closed = new Error("the pool closed before the job was sent");
      for (const [attempt] of outbox) this.#end(attempt, undefined, closed);
      return;
    }
    const threads = Math.max(1, this.#workers.size);
    const size = Math.min(BATCH_MAX, Math.ceil(outbox.length / threads));
    for (let i = 0; i < outbox.length; i += size) {
      const chunk = outbox.slice(i, i + size);
      const attempts = chunk.map(([attempt]) => attempt);
      this.#send(
        chunk.length === 1 ? chunk[0]![1] : { batch: chunk.map(([, r]) => r) },
        true,
        attempts,
      );
    }
  };

  #send(
    request: RunRequest | BatchRequest,
    prefetch: boolean,
    attempts: Attempt[],
    transferList?: Transferable[],
  ): void {
    if (prefetch) (request as unknown as Record<symbol, unknown>)[QUEUE_OPTIONS] = { prefetch };
    const single = !("batch" in request);
    this.#pool!.run(request, transferList === undefined ? undefined : { transferList }).then(
      (value) => {
        if (single) this.#settle(attempts[0]!, value, undefined);
        else this.#settleBatch(attempts, undefined);
      },
      (error) => {
        const reason = error ?? new Error("attempt failed");
        if (single) this.#settle(attempts[0]!, undefined, reason);
        else this.#settleBatch(attempts, reason);
      },
    );
  }

  /**
   * A batch ended: every answer its thread gave is on that thread's result
   * channel. An attempt with no answer was still queued or running when the
   * thread died: the owner slot tells which (see decideOutcome).
   */
  #settleBatch(attempts: Attempt[], error: unknown): void {
    this.#drainProgress();
    for (const [threadId, port] of this.#results) {
      this.#drainAnswers(port);
      if (error !== undefined && !this.#threadAlive(threadId)) {
        this.#results.delete(threadId);
        port.close();
      }
    }
    const missing = error ?? new Error("the batch ended with no answer for this job");
    for (const attempt of attempts) {
      if (this.#attempts[attempt.slot] === attempt) this.#end(attempt, undefined, missing);
    }
  }

  #drainAnswers(port: MessagePort): void {
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const answer = m.message as Answer;
      const attempt = this.#attempts[answer.slot];
      if (attempt === undefined || attempt.jobId !== answer.jobId) continue;
      this.#takeBack(attempt, answer);
      this.#end(attempt, answer.value, answer.error);
    }
  }

  #threadAlive(threadId: number): boolean {
    for (const worker of this.#pool?.threads ?? []) if (worker.threadId === threadId) return true;
    return false;
  }
  /**
   * Asks a running attempt to stop: its signal aborts, `throwIfCancelled()`
   * starts throwing, and after the grace period its thread is terminated.
   */
  stop(attempt: Attempt, why: typeof CancelFlag.CANCELLED | typeof CancelFlag.TIMED_OUT): void {
    if (this.#attempts[attempt.slot] !== attempt) return;
    if (attempt.stop !== CancelFlag.NONE) {
      // Cancelled while already stopping after a timeout: it must end
      // cancelled, not go back for a retry. The grace period runs on.
      if (why === CancelFlag.CANCELLED && attempt.stop === CancelFlag.TIMED_OUT) {
        attempt.stop = why;
        Atomics.store(this.#flags, attempt.slot, why);
      }
      return;
    }
    attempt.stop = why;
    Atomics.store(this.#flags, attempt.slot, why);
    const message: AbortMessage = {
      kind: "abort",
      slot: attempt.slot,
      jobId: attempt.jobId,
      attempt: attempt.number,
      reason: why,
    };
    for (const port of this.#ports) port.postMessage(message);
    attempt.graceEntry = this.#hooks.timers.add(Date.now() + this.cancelGraceMs, () => {
      attempt.graceEntry = undefined;
      this.#terminate(attempt);
    });
  }

  /** Stops every attempt at once, with no grace: used by `close()` after its timeout. */
  terminateAll(): void {
    for (const attempt of this.#attempts) {
      if (attempt === undefined) continue;
      if (attempt.stop === CancelFlag.NONE) {
        attempt.stop = CancelFlag.CANCELLED;
        Atomics.store(this.#flags, attempt.slot, CancelFlag.CANCELLED);
      }
      this.#terminate(attempt);
    }
  }

  /**
   * Terminates the thread that runs the attempt; the pool replaces it. A job
   * still waiting in a thread's queue needs nothing: it sees its stop flag
   * when it reaches the front and ends without running.
   */
  #terminate(attempt: Attempt): void {
    if (this.#attempts[attempt.slot] !== attempt) return;
    const threadId = Math.abs(Atomics.load(this.#owners, attempt.slot));
    if (threadId === 0 || this.#pool === undefined) return;
    for (const worker of this.#pool.threads) {
      if (worker.threadId === threadId) void worker.terminate();
    }
  }

  /** Ends the pool. Running attempts are terminated. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    for (const port of this.#ports) port.close();
    this.#ports.clear();
    this.#deliver.clear();
    for (const port of this.#results.values()) port.close();
    this.#results.clear();
    this.#retired.clear();
    if (pool !== undefined) await pool.destroy();
    this.#workers.clear();
  }

  #attach(port: MessagePort): void {
    this.#ports.add(port);
    const endpoint = hostEndpoint(port, (data) => this.#raw(data));
    Comlink.expose(this.#hostWire, endpoint);
    this.#deliver.set(port, endpoint.deliver);
    port.on("close", () => {
      this.#ports.delete(port);
      this.#deliver.delete(port);
    });
    port.unref();
  }

  /** A message on a thread's channel that is not comlink's: true when handled. */
  #raw(data: unknown): boolean {
    if (data === null || typeof data !== "object") return false;
    const message = data as ProgressMessage | LogMessage | RetireMessage;
    switch (message.kind) {
      case "progress": {
        const attempt = this.#attempts[message.slot];
        if (attempt !== undefined && attempt.jobId === message.jobId)
          this.#hooks.progress(message.jobId, message.value);
        return true;
      }
      case "log": {
        const attempt = this.#attempts[message.slot];
        if (attempt !== undefined && attempt.jobId === message.jobId)
          this.#hooks.log?.(message.jobId, message.lines);
        return true;
      }
      case "retire":
        this.#retired.add(message.threadId);
        this.#reapRetired();
        return true;
      default:
        return false;
    }
  }

  /**
   * Terminates the retired threads that hold no task any more (Piscina
   * counts a task until its answer is in), so none is cut short. Piscina
   * starts a new thread as needed (at least minThreads).
   */
  #reapRetired(): void {
    if (this.#retired.size === 0 || this.#pool === undefined) return;
    for (const threadId of this.#retired) {
      const worker = this.#workers.get(threadId);
      if (worker === undefined) {
        this.#retired.delete(threadId);
        continue;
      }
      if (worker.currentUsage !== 0) continue;
      this.#retired.delete(threadId);
      for (const thread of this.#pool.threads) {
        if (thread.threadId === threadId) void thread.terminate();
      }
    }
  }

  /** A thread ended (idle, retired, crashed or terminated): its answers first, then its state. */
  #forgetThread(threadId: number): void {
    this.#workers.delete(threadId);
    this.#retired.delete(threadId);
    for (let i = 0; i < this.#retiringTable.length; i++) {
      Atomics.compareExchange(this.#retiringTable, i, threadId, 0);
    }
    const port = this.#results.get(threadId);
    if (port !== undefined) {
      this.#drainAnswers(port);
      this.#results.delete(threadId);
      port.close();
    }
  }

  #settle(attempt: Attempt, value: unknown, error: unknown): void {
    if (this.#attempts[attempt.slot] !== attempt) return;
    this.#drainProgress();
    if (attempt.moved !== undefined && error === undefined) {
      const answer = value as Answer;
      this.#takeBack(attempt, answer);
      this.#end(attempt, answer.value, answer.error);
      return;
    }
    this.#end(attempt, value, error);
  }

  /** Records an answer's run time and puts the argument buffers it handed back home, for a retry. */
  #takeBack(attempt: Attempt, answer: Answer): void {
    attempt.ranMs = answer.ranMs;
    if (answer.returned === undefined || attempt.moved === undefined) return;
    const buffers = attempt.moved.buffers;
    for (const [i, buffer] of answer.returned.entries()) if (buffer) buffers[i] = buffer;
  }

  /**
   * The result came on the pool's channel (or the result channel), progress
   * and logs on the thread's own: read what the threads sent before they
   * answered, so that progress and log lines are delivered while the job
   * still counts as running, and before `completed`.
   */
  #drainProgress(): void {
    for (const [port, deliver] of this.#deliver) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        deliver(m.message);
      }
    }
  }

  #end(attempt: Attempt, value: unknown, error: unknown): void {
    const slot = attempt.slot;
    this.#attempts[slot] = undefined;
    // A thread that died under its job never cleared the owner: that tells a
    // crash from a job that was only waiting in the dead thread's queue. A
    // negative owner means the thread was still importing the task's module.
    const owner = Atomics.load(this.#owners, slot);
    Atomics.store(this.#owners, slot, 0);
    Atomics.store(this.#flags, slot, CancelFlag.NONE);
    this.#freeSlots.push(slot);
    this.#hooks.timers.remove(attempt.timeoutEntry);
    this.#hooks.timers.remove(attempt.graceEntry);
    const ms = attempt.elapsedMs();
    const average = this.#taskMs.get(attempt.task);
    this.#taskMs.set(attempt.task, average === undefined ? ms : average * 0.9 + ms * 0.1);
    const outcome = decideOutcome(attempt, value, error, owner, this.#reportBrokenModule);
    attempt.done(outcome, attempt);
    this.#reapRetired();
  }

  readonly #reportBrokenModule = (attempt: Attempt, error: SerializedError): void => {
    if (this.#reportedModules.has(attempt.moduleUrl)) return;
    this.#reportedModules.set(attempt.moduleUrl, error);
    const e = new Error(error.message) as Error & { code?: string };
    e.code = error.code;
    this.#hooks.error(e);
  };
}
