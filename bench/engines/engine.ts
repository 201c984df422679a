/**
 * One shape for every engine the benchmark compares: run `n` jobs of one
 * kind end to end (submit them all, in bulk where the library offers it, and
 * resolve when every one has completed), then close.
 */

/** The work each job does: nothing, or `fib(n)`. */
export type Work = { kind: "noop" } | { kind: "fib"; n: number };

export interface EngineOptions {
  work: Work;
  /** Worker threads of a pool (Piscina, Tinypool, ours). */
  threads: number;
  /** The case's private Redis, for the Redis-backed engines. */
  redisUrl?: string;
}

export interface Engine {
  /** Submits `n` jobs and resolves once all have completed; rejects if one failed. */
  run(n: number): Promise<void>;
  /** Closes queues, connections and pools, so the process can exit. */
  close(): Promise<void>;
}

/** Unique per case, so no two queues of a run share keys even on one server. */
export function benchQueueName(engine: string): string {
  return `bench-${engine}-${process.pid}-${Date.now().toString(36)}`;
}

/** Resolves after `count()` reaches the target; the callbacks are driven by the engine's own events. */
export class Countdown {
  #left = 0;
  #resolve: (() => void) | undefined;
  #reject: ((e: unknown) => void) | undefined;

  /** Expect `n` more completions; resolves when they have all arrived. */
  expect(n: number): Promise<void> {
    this.#left = n;
    return new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      if (n === 0) resolve();
    });
  }

  tick(): void {
    if (--this.#left === 0) this.#resolve?.();
  }

  fail(error: unknown): void {
    this.#reject?.(error);
  }
}
