import type { Executor } from "../executor/executor.js";

/** How fast jobs end here and how long a claim takes: what prefetch and write batching follow. */
export interface Pace {
  /** Moving average of the ms between two jobs ending while the threads are busy; -1 until known. */
  readonly msPerJob: number;
  /** Moving average of a claim's round trip, in ms. */
  readonly claimMs: number;
}

/**
 * Measures the pace of a runner. It is only measured while the threads are
 * busy: an idle gap says nothing about it, and then a job's own time stands
 * for it. Short jobs end in bursts (a thread answers a batch at once), so it
 * is measured over windows of at least 8 ms.
 */
export class PaceMeter implements Pace {
  msPerJob = -1;
  claimMs = 1;
  readonly #executor: Executor;
  #from = 0;
  #ends = 0;

  constructor(executor: Executor) {
    this.#executor = executor;
  }

  claimTook(ms: number): void {
    this.claimMs = this.claimMs * 0.8 + ms * 0.2;
  }

  /** A job ended at `now` after running `durationMs`; `active` jobs still run. */
  jobEnded(now: number, durationMs: number, active: number): void {
    let pace: number;
    if (active + 1 < this.#executor.concurrency) {
      this.#from = 0;
      pace = durationMs;
    } else if (this.#from === 0) {
      this.#from = now;
      this.#ends = 0;
      return;
    } else {
      this.#ends++;
      const span = now - this.#from;
      if (span < 8) return;
      pace = span / this.#ends;
      this.#from = now;
      this.#ends = 0;
    }
    this.msPerJob = this.msPerJob < 0 ? pace : this.msPerJob * 0.8 + pace * 0.2;
  }
}
