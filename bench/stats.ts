/** Percentiles, and repeated timing of a batch with tinybench. */
import { Bench } from "tinybench";
import type { SampleStats } from "./types.js";

/** Nearest-rank percentile of `sorted` (ascending), `p` in 0..100. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median of unsorted values (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
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

/**
 * Runs several batches in turn, round after round, rotating which goes
 * first, and returns each one's measured durations (ms), warm-up rounds left
 * out. Interleaving puts every contender under the same background load, so
 * a ratio between them survives a machine that is busy with other work.
 * With `warmupMs`, warm-up goes on past `warmup` rounds until every batch
 * has run that long unmeasured: on two busy cores, the compiler threads
 * that optimize an engine's code get little time, and an engine with more
 * code on the hot path needs more seconds, not more rounds, to reach the
 * speed it keeps.
 */
export async function interleave(
  batches: (() => Promise<void>)[],
  o: {
    rounds: number;
    warmup: number;
    warmupMs?: number;
    onRound?: (done: number, total: number) => void;
  },
): Promise<number[][]> {
  const durations: number[][] = batches.map(() => []);
  const warmedMs = batches.map(() => 0);
  const warm = () => warmedMs.every((ms) => ms >= (o.warmupMs ?? 0));
  let warmup = o.warmup;
  for (let round = 0; round < warmup + o.rounds; round++) {
    for (let k = 0; k < batches.length; k++) {
      const i = (round + k) % batches.length;
      const t0 = performance.now();
      await batches[i]!();
      const ms = performance.now() - t0;
      if (round >= warmup) durations[i]!.push(ms);
      else warmedMs[i]! += ms;
    }
    if (round === warmup - 1 && !warm()) warmup++;
    o.onRound?.(Math.max(0, round + 1 - warmup), o.rounds);
  }
  return durations;
}

/** Rate and spread of one contender's interleaved batches of `size` units each. */
export function rateOf(
  size: number,
  samplesMs: number[],
): { perSecond: number; stats: SampleStats } {
  const rates = samplesMs.map((ms) => (size * 1000) / ms);
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const sd =
    rates.length > 1
      ? Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / (rates.length - 1))
      : 0;
  // 95 % margin with Student's t for small samples, as tinybench reports it.
  const t =
    [Number.NaN, 12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23][rates.length - 1] ?? 2;
  return {
    perSecond: (size * samplesMs.length * 1000) / samplesMs.reduce((a, b) => a + b, 0),
    stats: {
      samples: rates.length,
      mean,
      min: Math.min(...rates),
      max: Math.max(...rates),
      rme: rates.length > 1 ? (100 * t * sd) / Math.sqrt(rates.length) / mean : 0,
    },
  };
}
