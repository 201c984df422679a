/**
 * The benchmark's tasks. Like any tasks module it defines tasks and nothing
 * else, so worker threads can import it. The tasks use the default queue:
 * each benchmark process makes that queue first (`getQueue(backend, options)`),
 * so the same tasks run on the in-memory queue or on Redis.
 */
import { background, move } from "rapidai/background";
import { fibonacci, scaleInPlace } from "./cpu.js";

/** Does nothing: measures the engine's own cost per job. */
export const noop = background({ maxRetries: 0, name: "bench.noop" })(function noop(): null {
  return null;
});

/** CPU-bound work of a fixed size. */
export const fib = background({ maxRetries: 0, name: "bench.fib" })(function fib(
  n: number,
): number {
  return fibonacci(n);
});

/** Holds its worker thread for `ms`, so jobs queued behind it stay pending. */
export const hold = background({ maxRetries: 0, name: "bench.hold" })(async function hold(
  ms: number,
): Promise<null> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return null;
});

/**
 * Makes one pass over its array (scales it in place), the least work a job
 * on the data does, and hands it back: moved, or copied.
 */
export const payload = background({ maxRetries: 0, name: "bench.payload" })(function payload(
  values: Float64Array,
  moveBack: boolean,
): Float64Array {
  scaleInPlace(values);
  return moveBack ? move(values) : values;
});

/** The moment the job ran, on the clock every thread shares (ms since the epoch, µs precision). */
export const stamp = background({ maxRetries: 0, name: "bench.stamp" })(function stamp(): number {
  return performance.timeOrigin + performance.now();
});
