import type { MessagePort } from "node:worker_threads";
import type { SerializedError } from "../errors.js";
import type { EnqueueOptions } from "../job-queue.js";

/**
 * The worker-thread protocol, typed in one place. Keys are short because a
 * run request is built and cloned once per job on the hot path.
 */

/** How the arguments in a {@link RunRequest} are encoded. */
export const ArgsEncoding = {
  /** No arguments. */
  NONE: 0,
  /** `v8.serialize` (same process: the in-memory queue). */
  V8: 1,
  /** msgpackr structured-clone bytes (the Redis payload, decoded off the main thread). */
  MSGPACK: 2,
} as const;
export type ArgsEncoding = (typeof ArgsEncoding)[keyof typeof ArgsEncoding];

/** One job attempt, the one message sent to the pool per job. */
export interface RunRequest {
  /** Job id. */
  i: string;
  /** Task name, looked up in the worker's registry. */
  n: string;
  /** Module URL from the main thread's registry (never from a job record). */
  m: string;
  /** Encoded arguments. */
  a: Uint8Array | undefined;
  /** Encoding of `a`. */
  e: ArgsEncoding;
  /** Attempt number, 1-based. */
  t: number;
  /** Cancel-flag slot in the shared buffer. */
  s: number;
  /**
   * When true, the worker returns the result msgpack-encoded, as a latin1
   * string (one character per byte), or undefined (the Redis backend stores bytes).
   */
  r: boolean;
}

/**
 * Several attempts in one message to the pool: only jobs of tasks known to
 * be short, so none waits long behind another. Each attempt's answer goes
 * back on the thread's result channel as a {@link BatchResult} the moment
 * it ends, so a thread that dies mid-batch loses none of the answers it
 * already gave. The pool's own answer to the batch is only the count.
 */
export interface BatchRequest {
  b: RunRequest[];
}

/** Worker → main on the thread's result channel: one attempt of a batch ended. */
export interface BatchResult {
  /** Slot of the attempt. */
  s: number;
  /** Job id. */
  i: string;
  /** How long it ran on the thread once it had its turn, in ms. */
  d: number;
  /** The result (absent when `e` is set). */
  v?: unknown;
  /** The error, when the attempt failed. */
  e?: WorkerErrorPayload;
}

/** Values of a cancel-flag slot. */
export const CancelFlag = { NONE: 0, CANCELLED: 1, TIMED_OUT: 2 } as const;
export type CancelFlag = (typeof CancelFlag)[keyof typeof CancelFlag];

/**
 * Sent once by each worker thread through `parentPort`: its ends of the
 * thread's two channels. The first carries progress, follow-up enqueues and
 * aborts; the second only batch results, which the main thread reads with
 * `receiveMessageOnPort` when a batch ends rather than one event each.
 */
export interface WorkerHello {
  rapidaiHello: MessagePort;
  rapidaiResults: MessagePort;
  threadId: number;
}

/** Worker → main on the thread's channel: `currentJob().progress(v)`. */
export interface ProgressMessage {
  /** Slot of the attempt. */
  p: number;
  /** Job id, to drop progress of an attempt that already ended. */
  i: string;
  v: unknown;
}

/** Main → every worker on their channels: stop the job in this slot. */
export interface AbortMessage {
  /** Slot of the attempt. */
  c: number;
  i: string;
  r: CancelFlag;
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
  /** Jobs one thread runs at once; a prefetched job waits in the thread for its turn. */
  perThread: number;
  /** Module URLs to import before the first job (start-up checks). */
  preload: string[];
}

export function isWorkerError(value: unknown): value is WorkerErrorPayload {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as WorkerErrorPayload).rapidaiError === true
  );
}
