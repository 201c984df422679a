import type { JobCounts } from "../job-queue.js";

/** Whoever waits in `onIdle()` looks again after this long at the latest, in ms. */
const SAFETY_MS = 1000;

/**
 * What `onIdle()` waits on: the counts, looked at again after jobs end, at
 * most once per turn of the event loop however many end in it (so a burst of
 * 50,000 endings costs one look, not 50,000), and every second as a safety
 * net (a delayed job ending in another process, events missed while Redis
 * was unreachable).
 */
export class IdleWatch {
  readonly #counts: () => Promise<JobCounts>;
  readonly #waiters = new Set<() => void>();
  #looking = false;

  constructor(counts: () => Promise<JobCounts>) {
    this.#counts = counts;
  }

  /** Someone waits: changes must be reported. */
  get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  /** Resolves when no job is pending or running; `closed()` is checked at each look. */
  async wait(closed: () => Error | undefined): Promise<void> {
    for (;;) {
      const counts = await this.#counts();
      if (counts.pending === 0 && counts.running === 0) return;
      const error = closed();
      if (error !== undefined) throw error;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, SAFETY_MS);
        const waiters = this.#waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** A job ended or went back to pending: look at the counts once this turn is over. */
  ended(): void {
    if (this.#waiters.size === 0 || this.#looking) return;
    this.#looking = true;
    setImmediate(() => {
      this.#looking = false;
      this.#counts().then(
        (c) => {
          if (c.pending === 0 && c.running === 0) this.release();
        },
        () => {},
      );
    });
  }

  /** Lets every waiter look again now (the queue closed). */
  release(): void {
    for (const done of [...this.#waiters]) done();
  }
}
