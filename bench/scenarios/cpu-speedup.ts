/**
 * Scenario 2: CPU-bound speedup. The same N `fib(n)` jobs, run serially on
 * the main thread and on each pool; speedup = pool jobs/s ÷ serial jobs/s.
 */
import { openEngine } from "../engines/index.js";
import { fmtInt, fmtMs, fmtNum, fmtPct, fmtRatio, statusOf } from "../format.js";
import { timeBatches } from "../stats.js";
import type { CaseSpec } from "../types.js";
import type { Scenario } from "./scenario.js";

const ENTRIES = [
  { engine: "main-thread", label: "main thread, serial", redis: false },
  { engine: "rapidai-memory", label: "rapidai InMemoryQueue", redis: false },
  { engine: "piscina", label: "piscina.run() (raw pool)", redis: false },
  { engine: "rapidai-redis", label: "rapidai RedisQueue", redis: true },
];

export const cpuSpeedup: Scenario = {
  id: "cpu-speedup",
  title: "CPU-bound speedup",
  method:
    "N jobs of naive recursive `fib(n)` (the same function everywhere), timed with tinybench as whole " +
    "batches: serially on the main thread, and on each pool with T threads. speedup = pool jobs/s ÷ serial " +
    "jobs/s from the same run; per core = speedup ÷ cores.",

  plan({ profile, threads }) {
    return ENTRIES.map(
      (e): CaseSpec => ({
        scenario: "cpu-speedup",
        id: e.engine,
        label: e.label,
        engine: e.engine,
        redis: e.redis,
        params: {
          jobs: profile.cpu.jobs,
          fibN: profile.cpu.fibN,
          threads: e.engine === "main-thread" ? 1 : threads,
        },
      }),
    );
  },

  async run(spec, ctx) {
    const size = Number(spec.params.jobs);
    const engine = await openEngine(spec.engine, {
      work: { kind: "fib", n: Number(spec.params.fibN) },
      threads: ctx.threads,
      ...(ctx.redisUrl === undefined ? {} : { redisUrl: ctx.redisUrl }),
    });
    try {
      const t = await timeBatches(spec.label, () => engine.run(size), {
        size,
        iterations: ctx.profile.iterations,
        warmup: Math.max(1, ctx.profile.warmup),
        onIteration: (done, total) => ctx.progress(done, total, "batches"),
      });
      return {
        figures: { jobsPerSec: t.perSecond, msPerJob: 1000 / t.perSecond },
        stats: { jobsPerSec: t.stats },
      };
    } finally {
      await engine.close();
    }
  },

  derive(results, { cores }) {
    const serial = results.find((r) => r.engine === "main-thread")?.figures.jobsPerSec;
    if (serial === undefined) return;
    for (const r of results) {
      if (r.engine === "main-thread" || r.figures.jobsPerSec === undefined) continue;
      r.figures.speedup = r.figures.jobsPerSec / serial;
      r.figures.speedupPerCore = r.figures.speedup / cores;
    }
  },

  table(results, { cores }) {
    return {
      headers: ["engine", "threads", "jobs", "jobs/s", "time/job", "spread", "speedup", "per core"],
      rows: results.map((r) => [
        r.label,
        String(r.params.threads),
        `${fmtInt(Number(r.params.jobs))} × fib(${r.params.fibN})`,
        statusOf(r) ?? fmtInt(r.figures.jobsPerSec),
        fmtMs(r.figures.msPerJob),
        fmtPct(r.stats?.jobsPerSec?.rme),
        fmtRatio(r.figures.speedup),
        fmtNum(r.figures.speedupPerCore),
      ]),
      footnotes: [
        `per core: speedup ÷ ${cores} cores; time/job is wall time per job across the pool.`,
      ],
    };
  },
};
