/**
 * The CPU-heavy work every engine runs: naive recursive Fibonacci, the same
 * function on the main thread and in every pool, so a speedup compares like
 * with like. No allocation, no I/O: it measures pure compute.
 */
export function fibonacci(n: number): number {
  return n < 2 ? n : fibonacci(n - 1) + fibonacci(n - 2);
}

/** One pass over an array, in place: the payload jobs' work, the same in every pool. */
export function scaleInPlace(values: Float64Array): void {
  for (let i = 0; i < values.length; i++) values[i] = values[i]! * 1.0000001;
}
