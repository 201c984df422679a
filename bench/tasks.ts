/**
 * The benchmark's tasks. Like any tasks module it defines tasks and nothing
 * else, so worker threads can import it. The tasks use the default queue:
 * each benchmark process makes that queue first (`getQueue(backend, options)`),
 * so the same tasks run on the in-memory queue or on Redis.
 */
import { background } from "rapidai/background";
import { fibonacci } from "./cpu.js";

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
