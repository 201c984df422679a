/**
 * Scenario 2: CPU-bound speedup. The same N `fib(n)` jobs, run serially on
 * the main thread and on a pool, batch for batch in turn inside one process;
 * speedup = pool jobs/s ÷ serial jobs/s.
 */
import { fibonacci } from "../cpu.js";
import { openEngine } from "../engines/index.js";
import { fmtInt, fmtNum, fmtPct, fmtRate, fmtRatio, statusOf } from "../format.js";
import { interleave, median, rateOf } from "../stats.js";
import type { CaseSpec } from "../types.js";
import type { Scenario } from "./scenario.js";

const ENTRIES = [
  { engine: "rapidai-memory", label: "rapidai InMemoryQueue", redis: false },
  { engine: "piscina", label: "piscina.run() (raw pool)", redis: false },
  { engine: "rapidai-redis", label: "rapidai RedisQueue", redis: true },
];

export const cpuSpeedup: Scenario = {
  id: "cpu-speedup",
  title: "CPU-bound speedup",
  method:
    "N jobs of naive recursive `fib(n)` (the same function everywhere). In each case's process a serial " +
    "batch (the N calls on the main thread) and a pool batch (N jobs on T threads) run in turn, round after " +
    "round, so both meet the same background load; the first round is warm-up. speedup = the median over " +
    "the measured rounds of serial time ÷ pool time in the same round (this VM's speed drifts between " +
    "rounds; each round's two batches are seconds apart); per core = speedup ÷ cores.",

  plan({ profile, threads }) {
    return ENTRIES.map(
      (e): CaseSpec => ({
        scenario: "cpu-speedup",
        id: e.engine,
        label: e.label,
        engine: e.engine,
        redis: e.redis,
        params: { jobs: profile.cpu.jobs, fibN: profile.cpu.fibN, threads },
      }),
    );
  },

  async run(spec, ctx) {
    const size = Number(spec.params.jobs);
    const n = Number(spec.params.fibN);
    const engine = await openEngine(spec.engine, {
      work: { kind: "fib", n },
      threads: ctx.threads,
      ...(ctx.redisUrl === undefined ? {} : { redisUrl: ctx.redisUrl }),
    });
    let sink = 0;
    const serial = async () => {
      for (let i = 0; i < size; i++) sink += fibonacci(n);
    };
    try {
      const [serialMs, poolMs] = await interleave([serial, () => engine.run(size)], {
        rounds: ctx.profile.cpu.rounds,
        warmup: Math.max(1, ctx.profile.warmup),
        onRound: (done, total) => ctx.progress(done, total, "rounds"),
      });
      if (sink < 0) throw new Error("unreachable");
      const s = rateOf(size, serialMs!);
      const p = rateOf(size, poolMs!);
      const pairs = serialMs!.map((ms, i) => ms / poolMs![i]!);
      return {
        figures: {
          serialJobsPerSec: s.perSecond,
          jobsPerSec: p.perSecond,
          speedup: median(pairs),
          speedupMin: Math.min(...pairs),
          speedupMax: Math.max(...pairs),
        },
        stats: { jobsPerSec: p.stats, serialJobsPerSec: s.stats },
      };
    } finally {
      await engine.close();
    }
  },

  derive(results, { cores }) {
    for (const r of results) {
      if (r.figures.speedup !== undefined) r.figures.speedupPerCore = r.figures.speedup / cores;
    }
  },

  table(results, { cores }) {
    return {
      headers: [
        "pool",
        "threads",
        "jobs/batch",
        "serial jobs/s",
        "pool jobs/s",
        "speedup",
        "rounds' range",
        "per core",
      ],
      rows: results.map((r) => [
        r.label,
        String(r.params.threads),
        `${fmtInt(Number(r.params.jobs))} × fib(${r.params.fibN})`,
        statusOf(r) ?? fmtRate(r.figures.serialJobsPerSec),
        fmtRate(r.figures.jobsPerSec),
        fmtRatio(r.figures.speedup),
        r.figures.speedupMin === undefined
          ? "–"
          : `${fmtNum(r.figures.speedupMin)}–${fmtNum(r.figures.speedupMax)}`,
        fmtNum(r.figures.speedupPerCore),
      ]),
      footnotes: [
        `per core: speedup ÷ ${cores} cores. Serial and pool batches alternate in one process; ` +
          "speedup: the median round's; range: lowest and highest speedup of a single round.",
        ...results
          .filter((r) => r.stats?.jobsPerSec !== undefined)
          .map(
            (r) =>
              `${r.label}: pool rate spread ${fmtPct(r.stats?.jobsPerSec?.rme)}, serial ${fmtPct(r.stats?.serialJobsPerSec?.rme)}.`,
          ),
      ],
    };
  },
};
