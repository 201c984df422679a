/**
 * The demo tasks `rapidai-jobs serve` accepts by default. They bind to no
 * queue of their own, so they run on whichever default queue the process
 * set up (`getQueue("memory")` or `getQueue("redis", …)`), and importing
 * this module starts nothing: a worker thread imports it to find them.
 */
import { background, currentJob, ErrorCode, JobError } from "../background.js";

// This module lives inside the package, whose own frames background() skips
// when it looks for the defining module: name it explicitly.
const module = import.meta.url;

function integerArg(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new JobError(
      ErrorCode.INVALID_OPTION,
      `${name} must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function naiveFib(n: number): number {
  return n < 2 ? n : naiveFib(n - 1) + naiveFib(n - 2);
}

/**
 * The n-th Fibonacci number by naive recursion: pure CPU work that never
 * yields, the case worker threads exist for (n = 40 takes about a second).
 * A bad `n` cannot get better on retry, so there is none.
 */
export const fib = background({ maxRetries: 0, module })(function fib(n: number): number {
  return naiveFib(integerArg("n", n, 0, 45));
});

/**
 * Waits `ms` milliseconds, reporting progress from 0 to 1 about ten times,
 * and stops at once when the job is cancelled.
 */
export const sleep = background({ maxRetries: 0, module })(async function sleep(
  ms: number,
): Promise<number> {
  integerArg("ms", ms, 0, 3_600_000);
  const job = currentJob();
  const step = Math.max(50, Math.ceil(ms / 10));
  const start = Date.now();
  for (let waited = 0; waited < ms; waited = Date.now() - start) {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(job.signal.reason);
      };
      const timer = setTimeout(
        () => {
          job.signal.removeEventListener("abort", onAbort);
          resolve();
        },
        Math.min(step, ms - waited),
      );
      if (job.signal.aborted) onAbort();
      else job.signal.addEventListener("abort", onAbort, { once: true });
    });
    job.progress(Math.min(1, (Date.now() - start) / ms));
  }
  return ms;
});

/**
 * Always throws `message`. It has two retries, half a second apart, so a
 * dashboard shows it retrying before it fails.
 */
export const fail = background({ maxRetries: 2, module, backoff: { type: "fixed", delayMs: 500 } })(
  function fail(message: string): never {
    throw new Error(
      typeof message === "string" && message.length > 0 ? message : "this task always fails",
    );
  },
);

/**
 * Counts the primes up to `limit` by trial division, reporting progress and
 * checking for cancellation inside its CPU loop, which never yields.
 */
export const primes = background({ maxRetries: 0, module })(function primes(limit: number): number {
  integerArg("limit", limit, 0, 100_000_000);
  const job = currentJob();
  const every = Math.max(1, Math.floor(limit / 100));
  let count = 0;
  for (let n = 2; n <= limit; n++) {
    if (n % every === 0) {
      job.throwIfCancelled();
      job.progress(n / limit);
    }
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  job.progress(1);
  return count;
});

/**
 * Fails its first `failures` attempts, then succeeds: retries in action.
 * Retries come a quarter of a second apart.
 */
export const flaky = background({
  maxRetries: 5,
  module,
  backoff: { type: "fixed", delayMs: 250 },
})(function flaky(failures: number): { attempts: number } {
  const n = integerArg("failures", failures, 0, 5);
  const { attempt } = currentJob();
  if (attempt <= n) throw new Error(`attempt ${attempt} of a flaky task failed on purpose`);
  return { attempts: attempt };
});
