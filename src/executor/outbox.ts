import type { Attempt } from "./attempt.js";
import type { BatchRequest, RunRequest } from "./protocol.js";

// Jobs per batch message at most. Measured on 2 threads with no-op jobs, the
// CPU cost per job of pool, messages and wake-ups, all threads together: 19 µs
// one job per message, 11 µs two, 4.2 µs eight, 3.2 µs sixteen.
export const BATCH_MAX = 16;
// Batches only when more than this many short jobs per thread started in one
// turn. A batch answers its jobs together, when its last one ends (the
// answers wait on the result channel until the pool's answer for the batch
// says to read them), and a batch cannot be split between threads: at low
// load, where jobs come one or two per turn and the CPU is not what limits,
// each job goes alone, as soon as the turn that started it ends, and is done
// as soon as it ends.
export const BATCH_ABOVE_PER_THREAD = 2;

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
  #jobs: [Attempt, RunRequest][] = [];
  #send: SendTask;
  #threads: () => number;
  /** Called instead of sending when the pool closed in the same turn. */
  #closed: (attempts: Attempt[]) => boolean;

  constructor(send: SendTask, threads: () => number, closed: (attempts: Attempt[]) => boolean) {
    this.#send = send;
    this.#threads = threads;
    this.#closed = closed;
  }

  add(attempt: Attempt, request: RunRequest): void {
    if (this.#jobs.push([attempt, request]) === 1) queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    const jobs = this.#jobs;
    this.#jobs = [];
    if (this.#closed(jobs.map(([attempt]) => attempt))) return;
    const threads = Math.max(1, this.#threads());
    if (jobs.length <= threads * BATCH_ABOVE_PER_THREAD) {
      for (const [attempt, request] of jobs) this.#send(request, true, [attempt]);
      return;
    }
    const size = Math.min(BATCH_MAX, Math.ceil(jobs.length / threads));
    for (let i = 0; i < jobs.length; i += size) {
      const chunk = jobs.slice(i, i + size);
      this.#send(
        chunk.length === 1 ? chunk[0]![1] : { batch: chunk.map(([, r]) => r) },
        true,
        chunk.map(([attempt]) => attempt),
      );
    }
  };
}
