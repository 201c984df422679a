import type { Attempt } from "./attempt.js";
import type { BatchRequest, RunRequest } from "./protocol.js";

// Jobs per batch message at most. Measured on 2 threads with no-op jobs, the
// CPU cost per job of pool, messages and wake-ups, all threads together: 19 µs
// one job per message, 11 µs two, 4.2 µs eight, 3.2 µs sixteen.
export const BATCH_MAX = 16;
// Batches only when more than this many short jobs per thread started in one
// turn. A batch cannot be split between threads, and under load its answers
// are read together when its last job ends: at low load, where jobs come one
// or two per turn and the CPU is not what limits, each job goes alone, as
// soon as the turn that started it ends, and is done as soon as it ends.
export const BATCH_ABOVE_PER_THREAD = 2;
// Batches up to this size have their answers read as each arrives
// (ThreadChannels.stream); larger ones, once the batch ends. Measured on
// 2 threads, no-op jobs: reading each answer as it came cut the median
// latency by a tenth at 3,500 and 8,900 jobs/s offered (batches of 3 to 5)
// and cost a fifth of the peak rate (batches of 16).
const STREAM_UP_TO = 8;

/** Sends one pool task: a single attempt or a batch. */
export type SendTask = (
  request: RunRequest | BatchRequest,
  prefetch: boolean,
  attempts: Attempt[],
) => void;

/**
 * Short jobs started in one turn of the event loop, sent together at its end
 * (a microtask), spread over the threads: in batches when many started, one
 * by one when few did.
 */
export class Outbox {
  // Two arrays side by side, not one of pairs: no pair to allocate per job.
  #attempts: Attempt[] = [];
  #requests: RunRequest[] = [];
  #send: SendTask;
  #threads: () => number;
  /** Called instead of sending when the pool closed in the same turn. */
  #closed: (attempts: Attempt[]) => boolean;
  /** Whether batches' answers are to be read as each arrives (see STREAM_UP_TO). */
  #stream: (on: boolean) => void;

  constructor(
    send: SendTask,
    threads: () => number,
    closed: (attempts: Attempt[]) => boolean,
    stream: (on: boolean) => void,
  ) {
    this.#send = send;
    this.#threads = threads;
    this.#closed = closed;
    this.#stream = stream;
  }

  add(attempt: Attempt, request: RunRequest): void {
    this.#requests.push(request);
    if (this.#attempts.push(attempt) === 1) queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    const attempts = this.#attempts;
    const requests = this.#requests;
    this.#attempts = [];
    this.#requests = [];
    if (this.#closed(attempts)) return;
    const threads = Math.max(1, this.#threads());
    if (attempts.length <= threads * BATCH_ABOVE_PER_THREAD) {
      for (let i = 0; i < attempts.length; i++) this.#send(requests[i]!, true, [attempts[i]!]);
      return;
    }
    const size = Math.min(BATCH_MAX, Math.ceil(attempts.length / threads));
    this.#stream(size <= STREAM_UP_TO);
    for (let i = 0; i < attempts.length; i += size) {
      const chunk = attempts.slice(i, i + size);
      this.#send(
        chunk.length === 1 ? requests[i]! : { batch: requests.slice(i, i + size) },
        true,
        chunk,
      );
    }
  };
}
