import type { MessagePort } from "node:worker_threads";
import type { SerializedError } from "../errors.js";
import type { EnqueueOptions } from "../job-queue.js";

/**
 * The worker-thread protocol, typed in one place. Keys are words: measured
 * with `node dist/bench/main.js --only throughput --case rapidai-memory`,
 * one-letter keys made no difference beyond the run-to-run noise.
 */

/** How the arguments in a {@link RunRequest} are encoded. */
export const ArgsEncoding = {
  /** No arguments. */
  NONE: 0,
  /** `v8.serialize` (same process: the in-memory queue). */
  V8: 1,
  /** msgpackr structured-clone bytes (the Redis payload, decoded off the main thread). */
  MSGPACK: 2,
  /**
   * v8 bytes that refer to buffers sent beside them: moved ones (in the
   * transfer list) and shared ones (see src/executor/thread-args.ts).
   */
  V8_MOVED: 3,
} as const;
export type ArgsEncoding = (typeof ArgsEncoding)[keyof typeof ArgsEncoding];

/** One job attempt, the one message sent to the pool per job. */
export interface RunRequest {
  jobId: string;
  /** Task name, looked up in the worker's registry. */
  task: string;
  /** Module URL from the main thread's registry (never from a job record). */
  module: string;
  /** Encoded arguments. */
  args: Uint8Array | undefined;
  encoding: ArgsEncoding;
  /** With {@link ArgsEncoding.V8_MOVED}: the moved buffers (transferred) and the shared ones. */
  buffers?: ArrayBuffer[];
  shared?: SharedArrayBuffer[];
  /** With {@link ArgsEncoding.V8_MOVED}: the arguments in the flat form, instead of the bytes (thread-args.ts). */
  flat?: unknown[];
  /** Attempt number, 1-based. */
  attempt: number;
  /** Cancel-flag slot in the shared buffer. */
  slot: number;
  /**
   * When true, the worker returns the result msgpack-encoded, as a latin1
   * string (one character per byte), or undefined (the Redis backend stores bytes).
   */
  encodeResult: boolean;
  /** The results of the jobs it depended on, by job id (`currentJob().dependencies()`). */
  dependencies?: Record<string, unknown>;
}

/**
 * Several attempts in one message to the pool: only jobs of tasks known to
 * be short, so none waits long behind another, or one job that moves
 * buffers. Each attempt's answer goes back on the thread's result channel as
 * an {@link Answer} the moment it ends, so a thread that dies mid-batch loses
 * none of the answers it already gave. The pool's own answer is the count.
 */
export interface BatchRequest {
  batch: RunRequest[];
}

/** Worker → main on the thread's result channel: one attempt of a batch ended. */
export interface Answer {
  slot: number;
  jobId: string;
  /** The result (absent when `error` is set). */
  value?: unknown;
  /** The error, when the attempt failed. */
  error?: WorkerErrorPayload;
  /**
   * The argument buffers handed back (transferred), by index; a buffer the
   * job gave away (moved into its result, or detached) is missing.
   */
  returned?: (ArrayBuffer | undefined)[];
}

/** Values of a cancel-flag slot. */
export const CancelFlag = { NONE: 0, CANCELLED: 1, TIMED_OUT: 2 } as const;
export type CancelFlag = (typeof CancelFlag)[keyof typeof CancelFlag];

/**
 * Sent once by each worker thread through `parentPort`: its ends of the
 * thread's two channels. The first carries progress, logs, follow-up
 * enqueues and aborts; the second only batch answers, which the main thread
 * reads with `receiveMessageOnPort` when a batch ends rather than one event each.
 */
export interface WorkerHello {
  rapidaiHello: MessagePort;
  results: MessagePort;
  threadId: number;
}

/** Worker → main on the thread's channel: `currentJob().progress(v)`. */
export interface ProgressMessage {
  kind: "progress";
  slot: number;
  /** To drop progress of an attempt that already ended. */
  jobId: string;
  value: unknown;
}

/** Worker → main on the thread's channel: log lines of one job, in a batch. */
export interface LogMessage {
  kind: "log";
  slot: number;
  jobId: string;
  lines: string[];
}

/**
 * Worker → main on the thread's channel: this thread has reached its job or
 * heap limit, or holds a module import that never settled, and runs nothing
 * more: terminate it once its last task is answered.
 */
export interface RetireMessage {
  kind: "retire";
  threadId: number;
}

/** Main → every worker on their channels: stop the job in this slot. */
export interface AbortMessage {
  kind: "abort";
  slot: number;
  jobId: string;
  /** The attempt to stop: a notice that arrives late must not stop the job's next attempt. */
  attempt: number;
  reason: CancelFlag;
}

/**
 * Main → every worker on their channels: import this task module now, ahead
 * of its first job here. Sent for a module once a job of it completed on
 * some thread (so its import is known to work), and to each thread that
 * starts later.
 */
export interface WarmMessage {
  kind: "warm";
  module: string;
}

/** What a worker throws for a failed attempt: an Error's fields, which clone intact. */
export interface WorkerErrorPayload {
  rapidaiError: true;
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/**
 * What the main thread exposes to worker threads over comlink. A refused
 * enqueue comes back as data, not as a thrown error: comlink would keep
 * only the error's name and message, and the job could not branch on its code.
 */
export interface HostWire {
  enqueue(
    task: string,
    args: unknown[],
    options: EnqueueOptions | undefined,
  ): Promise<{ id: string } | { error: SerializedError }>;
}

/** The data piscina's `workerData` carries to every engine thread. */
export interface EngineWorkerData {
  rapidai: true;
  /** Int32 cancel flags, one per slot. */
  flags: SharedArrayBuffer;
  /**
   * Int32 owners, one per slot: the threadId running the slot's job, 0 while
   * it waits in a thread's queue or after it ended. The main thread reads it
   * to know which thread to terminate, and whether a job had started.
   */
  owners: SharedArrayBuffer;
  /**
   * Float64 run times, one per slot: how long the slot's job ran on its
   * thread, in ms, from its turn (its task's module loaded) to its end,
   * written before the thread answers; -1 until then.
   */
  ran: SharedArrayBuffer;
  /**
   * Int32 threadIds of threads that retire (see {@link RetireMessage}), in
   * any free (0) cell: the load balancer gives them no new task.
   */
  retiring: SharedArrayBuffer;
  /** Jobs one thread runs at once; a prefetched job waits in the thread for its turn. */
  perThread: number;
  /** Module URLs to import before the first job (start-up checks). */
  preload: string[];
  /** Longest a task module's import may take, in ms. */
  importTimeoutMs: number;
  /** Jobs after which the thread retires; 0 for no limit. */
  maxJobsPerThread: number;
  /** Heap, in MiB, above which the thread retires after a job; 0 for no limit. */
  maxThreadHeapMb: number;
  /** Largest encoded result (`RunRequest.encodeResult`), in bytes; 0 for no limit. */
  maxResultBytes: number;
}

export function isWorkerError(value: unknown): value is WorkerErrorPayload {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as WorkerErrorPayload).rapidaiError === true
  );
}
