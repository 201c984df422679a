import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { type MessagePort, type ResourceLimits, receiveMessageOnPort } from "node:worker_threads";
import * as Comlink from "comlink";
import type { Piscina } from "piscina";
import { displayModule } from "../caller-module.js";
import { ErrorCode, type SerializedError, serializeError } from "../errors.js";
import type { TaskDefinition } from "../task-definition.js";
import type { WorkerHost } from "../thread-role.js";
import type { TimerQueue } from "../timer-queue.js";
import { Attempt, type AttemptOutcome } from "./attempt.js";
import { hostEndpoint } from "./host-endpoint.js";
import {
  type AbortMessage,
  type ArgsEncoding,
  type BatchRequest,
  type BatchResult,
  CancelFlag,
  type EngineWorkerData,
  type HostWire,
  isWorkerError,
  type ProgressMessage,
  type RunRequest,
  type WorkerHello,
} from "./protocol.js";
import { threadPreloads } from "./thread-loader.js";

/** Options of the worker-thread pool behind a queue. */
export interface ExecutorOptions {
  /** Worker threads. @default os.availableParallelism() */
  threads?: number;
  /** Jobs one thread runs at once (raise it for jobs that mostly await I/O). @default 1 */
  concurrencyPerThread?: number;
  /** How long a cancelled or timed-out job may take to stop before its thread is terminated. @default 1000 */
  cancelGraceMs?: number;
  /** V8 limits for each worker thread; a job over them fails and its thread is replaced. */
  resourceLimits?: ResourceLimits;
}

export interface ExecutorHooks {
  /** Handles `task.enqueue()` called inside a job. */
  host: WorkerHost;
  /** `currentJob().progress(value)` arrived for a running attempt. */
  progress(jobId: string, value: unknown): void;
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
  attempt: number;
  /** Ask the worker for the result as msgpack bytes. */
  encodeResult: boolean;
}

// Piscina loads when a pool starts, not at import: worker threads import this
// package through the task modules they run and never start a pool.
const require = createRequire(import.meta.url);

const workerUrl = new URL("../../workers/job-worker.js", import.meta.url);

// Errors that no retry can fix: the job fails at once.
const PERMANENT = new Set<string>([
  ErrorCode.UNKNOWN_TASK,
  ErrorCode.TASK_MODULE_IMPORT,
  ErrorCode.PAYLOAD_CORRUPT,
]);

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
// Pool tasks (batches or single jobs) one thread may hold queued beyond those it runs.
const PREFETCH_TASKS = 4;

// Piscina hands a task's queue options (this symbol's property, which the
// structured clone to the thread drops) to the load balancer.
const QUEUE_OPTIONS = Symbol.for("Piscina.queueOptions");
type LoadBalancer = NonNullable<
  NonNullable<ConstructorParameters<typeof Piscina>[0]>["loadBalancer"]
>;

/**
 * Places a task on the least busy thread with room for it: room for one
 * more job than the thread runs at once only for a prefetched job. Else the
 * task waits in Piscina's queue for a free thread. Piscina's own balancer
 * would queue it behind a running job whenever the other threads are not
 * ready yet, as after a thread was replaced, however long that job runs.
 */
function balancer(perThread: number): LoadBalancer {
  return (task, workers) => {
    const options = (task as unknown as Record<symbol, { prefetch?: boolean } | undefined>)[
      QUEUE_OPTIONS
    ];
    const limit = options?.prefetch === true ? perThread + PREFETCH_TASKS : perThread;
    let best: (typeof workers)[number] | null = null;
    for (const worker of workers) {
      if (worker.currentUsage >= limit) continue;
      if (best === null || worker.currentUsage < best.currentUsage) best = worker;
    }
    return best;
  };
}

/**
 * The Piscina pool and everything around it: cancel flags in shared memory,
 * one channel per thread for progress and follow-up enqueues, and the
 * cancel → grace → terminate sequence. The pool starts at the first `run`.
 */
export class Executor {
  readonly threads: number;
  /** Jobs that run at once: threads × concurrency per thread. */
  readonly concurrency: number;
  readonly cancelGraceMs: number;
  #options: ExecutorOptions;
  #hooks: ExecutorHooks;
  #pool: Piscina | undefined;
  #flagsBuffer: SharedArrayBuffer;
  #flags: Int32Array;
  #ownersBuffer: SharedArrayBuffer;
  #owners: Int32Array;
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
    this.threads = options.threads ?? availableParallelism();
    this.concurrency = this.threads * (options.concurrencyPerThread ?? 1);
    this.cancelGraceMs = options.cancelGraceMs ?? 1000;
    this.#options = options;
    this.#hooks = hooks;
    const slots = this.concurrency + this.threads * PREFETCH_DEPTH;
    this.#flagsBuffer = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
    this.#flags = new Int32Array(this.#flagsBuffer);
    this.#ownersBuffer = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
    this.#owners = new Int32Array(this.#ownersBuffer);
    this.#attempts = new Array(slots).fill(undefined);
    this.#freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /** Attempts handed to the pool now. */
  get active(): number {
    return this.#attempts.length - this.#freeSlots.length;
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
   * one step but never early.
   */
  watchTimeout(attempt: Attempt, timeoutMs: number): void {
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

  /** True once the pool exists. */
  get started(): boolean {
    return this.#pool !== undefined;
  }

  /** Starts the threads now instead of at the first job. */
  start(): void {
    if (this.#pool !== undefined) return;
    const workerData: EngineWorkerData = {
      rapidai: true,
      flags: this.#flagsBuffer,
      owners: this.#ownersBuffer,
      perThread: this.concurrency / this.threads,
      preload: threadPreloads(),
    };
    const { Piscina: Pool } = require("piscina") as typeof import("piscina");
    this.#pool = new Pool({
      filename: workerUrl.href,
      minThreads: this.threads,
      maxThreads: this.threads,
      // Beyond what the thread runs at once: room for the prefetched jobs.
      concurrentTasksPerWorker: this.concurrency / this.threads + PREFETCH_TASKS,
      loadBalancer: balancer(this.concurrency / this.threads),
      idleTimeout: 60_000,
      // Never refuse a task: jobs in flight are bounded by the slots (hasCapacity),
      // and batches or single jobs beyond what the threads hold wait in its queue.
      maxQueue: Number.POSITIVE_INFINITY,
      workerData,
      ...(this.#options.resourceLimits ? { resourceLimits: this.#options.resourceLimits } : {}),
    });
    this.#pool.on("message", (message: unknown) => {
      const hello = message as WorkerHello;
      if (hello !== null && typeof hello === "object" && hello.rapidaiHello !== undefined) {
        this.#attach(hello.rapidaiHello);
        this.#results.set(hello.threadId, hello.rapidaiResults);
      }
    });
    // Piscina reports thread errors on the pool too; each one already failed its task.
    this.#pool.on("error", () => {});
  }

  /** The module of a task that could not be imported, with the error, once reported. */
  brokenModule(moduleUrl: string | undefined): SerializedError | undefined {
    return moduleUrl === undefined ? undefined : this.#reportedModules.get(moduleUrl);
  }

  /**
   * Runs one attempt. `done` is called exactly once with its outcome. The
   * caller must check {@link hasCapacity} first.
   */
  run(spec: RunSpec, done: (outcome: AttemptOutcome, attempt: Attempt) => void): Attempt {
    this.start();
    // Beyond one job per concurrent slot, this is a prefetch (see hasCapacity).
    const prefetch = this.active >= this.concurrency;
    const slot = this.#freeSlots.pop()!;
    const moduleUrl = spec.task.moduleUrl ?? "";
    const attempt = new Attempt(
      spec.jobId,
      spec.task.name,
      moduleUrl,
      slot,
      done,
      performance.now(),
    );
    attempt.short = (this.#taskMs.get(spec.task.name) ?? PREFETCH_BELOW_MS) < PREFETCH_BELOW_MS;
    this.#attempts[slot] = attempt;
    const request: RunRequest = {
      i: spec.jobId,
      n: spec.task.name,
      m: moduleUrl,
      a: spec.args,
      e: spec.encoding,
      t: spec.attempt,
      s: slot,
      r: spec.encodeResult,
    };
    if (attempt.short) {
      // Sent at the end of this turn, with the other short jobs started in it.
      if (this.#outbox.push([attempt, request]) === 1) queueMicrotask(this.#sendOutbox);
    } else {
      this.#send(request, prefetch, [attempt]);
    }
    return attempt;
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
    const size = Math.min(BATCH_MAX, Math.ceil(outbox.length / this.threads));
    for (let i = 0; i < outbox.length; i += size) {
      const chunk = outbox.slice(i, i + size);
      const attempts = chunk.map(([attempt]) => attempt);
      this.#send(
        chunk.length === 1 ? chunk[0]![1] : { b: chunk.map(([, r]) => r) },
        true,
        attempts,
      );
    }
  };

  #send(request: RunRequest | BatchRequest, prefetch: boolean, attempts: Attempt[]): void {
    if (prefetch) (request as unknown as Record<symbol, unknown>)[QUEUE_OPTIONS] = { prefetch };
    const single = !("b" in request);
    this.#pool!.run(request).then(
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
   * thread died: the owner slot tells which (see #outcome).
   */
  #settleBatch(attempts: Attempt[], error: unknown): void {
    this.#drainProgress();
    for (const [threadId, port] of this.#results) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const answer = m.message as BatchResult;
        const attempt = this.#attempts[answer.s];
        if (attempt === undefined || attempt.jobId !== answer.i) continue;
        attempt.ranMs = answer.d;
        this.#end(attempt, answer.v, answer.e);
      }
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
    const message: AbortMessage = { c: attempt.slot, i: attempt.jobId, r: why };
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
    if (pool !== undefined) await pool.destroy();
  }

  #attach(port: MessagePort): void {
    this.#ports.add(port);
    const endpoint = hostEndpoint(port, (data) => {
      const progress = data as ProgressMessage;
      if (progress === null || typeof progress !== "object" || typeof progress.p !== "number")
        return false;
      const attempt = this.#attempts[progress.p];
      if (attempt !== undefined && attempt.jobId === progress.i)
        this.#hooks.progress(progress.i, progress.v);
      return true;
    });
    Comlink.expose(this.#hostWire, endpoint);
    this.#deliver.set(port, endpoint.deliver);
    port.on("close", () => {
      this.#ports.delete(port);
      this.#deliver.delete(port);
    });
    port.unref();
  }

  #settle(attempt: Attempt, value: unknown, error: unknown): void {
    if (this.#attempts[attempt.slot] !== attempt) return;
    this.#drainProgress();
    this.#end(attempt, value, error);
  }

  /**
   * The result came on the pool's channel (or the result channel), progress
   * on the thread's own: read what the threads sent before they answered, so
   * that progress is delivered while the job still counts as running, and
   * before `completed`.
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
    attempt.done(this.#outcome(attempt, value, error, owner), attempt);
  }

  #outcome(attempt: Attempt, value: unknown, error: unknown, owner: number): AttemptOutcome {
    // Once asked to stop, how the job ended no longer matters: a job that
    // returns after its timeout still timed out.
    if (attempt.stop === CancelFlag.CANCELLED) return { kind: "cancelled" };
    if (attempt.stop === CancelFlag.TIMED_OUT) return { kind: "timeout" };
    if (error === undefined) return { kind: "ok", value };
    if (isWorkerError(error)) {
      const { rapidaiError: _, ...serialized } = error;
      if (serialized.code === ErrorCode.TASK_MODULE_IMPORT)
        this.#reportBrokenModule(attempt, serialized);
      return { kind: "error", error: serialized, permanent: PERMANENT.has(serialized.code ?? "") };
    }
    if (owner === 0) return { kind: "not-started" };
    const crash = serializeError(error);
    if (owner < 0) {
      // The module killed its thread while being imported (say, process.exit
      // at top level): as permanent as an import that throws, and reported once.
      const broken: SerializedError = {
        name: "JobError",
        code: ErrorCode.TASK_MODULE_IMPORT,
        message: `the module of task "${attempt.task}" (${displayModule(attempt.moduleUrl)}) ended its worker thread while being imported: ${crash.message}`,
      };
      this.#reportBrokenModule(attempt, broken);
      return { kind: "error", error: broken, permanent: true };
    }
    return {
      kind: "crashed",
      error: {
        name: "JobError",
        code: ErrorCode.WORKER_CRASHED,
        message: `the worker thread running the job died: ${crash.message}`,
        ...(crash.stack === undefined ? {} : { stack: crash.stack }),
      },
    };
  }

  #reportBrokenModule(attempt: Attempt, error: SerializedError): void {
    if (this.#reportedModules.has(attempt.moduleUrl)) return;
    this.#reportedModules.set(attempt.moduleUrl, error);
    const e = new Error(error.message) as Error & { code?: string };
    e.code = error.code;
    this.#hooks.error(e);
  }
}
