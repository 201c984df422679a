/** Percentiles, and repeated timing of a batch with tinybench. */
import { Bench } from "tinybench";
import type { SampleStats } from "./types.js";

/** Nearest-rank percentile of `sorted` (ascending), `p` in 0..100. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** p50, p99 and max of unsorted values (sorted in place). */
export function summarize(values: number[]): {
  p50: number;
  p99: number;
  max: number;
  count: number;
} {
  values.sort((a, b) => a - b);
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : values[values.length - 1]!,
    count: values.length,
  };
}

export interface BatchTiming {
  /** Duration of each measured batch, ms. */
  samplesMs: number[];
  /** Units of work per second over all measured batches: `size × batches / total time`. */
  perSecond: number;
  stats: SampleStats;
}

export interface BatchOptions {
  /** Units of work (jobs) one batch does. */
  size: number;
  iterations: number;
  warmup: number;
  onIteration?: (done: number, total: number) => void;
}

/**
 * Times `batch` with tinybench: `warmup` unmeasured runs, then exactly
 * `iterations` measured ones. The figure is total work over total time, so a
 * slow batch weighs as much as it cost; the spread is of per-batch rates.
 */
export async function timeBatches(
  name: string,
  batch: () => Promise<void>,
  o: BatchOptions,
): Promise<BatchTiming> {
  let done = 0;
  const total = o.iterations + o.warmup;
  const bench = new Bench({
    name,
    iterations: o.iterations,
    time: 0,
    warmup: o.warmup > 0,
    warmupIterations: o.warmup,
    warmupTime: 0,
    retainSamples: true,
    throws: true,
  });
  bench.add(name, batch, {
    // Stated, so tinybench does not call the batch once more to find out.
    async: true,
    afterEach: () => o.onIteration?.(++done, total),
  });
  const [task] = await bench.run();
  const result = task?.result;
  if (result === undefined || !("latency" in result)) {
    const error = result !== undefined && "error" in result ? (result.error as Error) : undefined;
    throw error ?? new Error(`${name}: tinybench produced no samples`);
  }
  const samplesMs = [...(result.latency.samples ?? [])];
  if (samplesMs.length === 0) throw new Error(`${name}: tinybench retained no samples`);
  const totalMs = samplesMs.reduce((a, b) => a + b, 0);
  const rates = samplesMs.map((ms) => (o.size * 1000) / ms);
  return {
    samplesMs,
    perSecond: (o.size * samplesMs.length * 1000) / totalMs,
    stats: {
      samples: samplesMs.length,
      mean: rates.reduce((a, b) => a + b, 0) / rates.length,
      min: Math.min(...rates),
      max: Math.max(...rates),
      rme: result.latency.rme,
    },
  };
}
