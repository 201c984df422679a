/**
 * Scenario 6: how throughput grows with threads (1..cores) on the in-memory
 * queue, for no-op and CPU-bound jobs, and with worker processes (1..4, one
 * thread each) on the Redis queue.
 */
import type { Engine, EngineOptions, Work } from "../engines/engine.js";
import { openEngine } from "../engines/index.js";
import { openRapidaiRedis } from "../engines/rapidai-redis.js";
import { fmtInt, fmtPct, fmtRatio, statusOf } from "../format.js";
import { timeBatches } from "../stats.js";
import type { CaseResult, CaseSpec } from "../types.js";
import type { Scenario } from "./scenario.js";

type Series = "memory-noop" | "memory-fib" | "redis-processes";

function seriesOf(r: CaseResult): Series {
  return r.params.series as Series;
}

export const scaling: Scenario = {
  id: "scaling",
  title: "Scaling with threads and processes",
  method:
    "Batches timed with tinybench as in the throughput scenario. In memory: the pool's thread count goes " +
    "from 1 to the number of cores, with no-op jobs and with `fib(n)` jobs. Redis: the benchmark process only " +
    "enqueues (`process: false`) and 1..4 separate worker processes, one thread each, run the no-op jobs. " +
    "scale = jobs/s ÷ jobs/s of the same series at 1 thread or process.",

  plan({ profile, cores }) {
    const specs: CaseSpec[] = [];
    for (let t = 1; t <= cores; t++) {
      specs.push({
        scenario: "scaling",
        id: `memory-noop-${t}`,
        label: `InMemoryQueue no-op, ${t} thread${t > 1 ? "s" : ""}`,
        engine: "rapidai-memory",
        redis: false,
        params: { series: "memory-noop", threads: t, processes: 0, jobs: profile.scaling.noopJobs },
      });
    }
    for (let t = 1; t <= cores; t++) {
      specs.push({
        scenario: "scaling",
        id: `memory-fib-${t}`,
        label: `InMemoryQueue fib(${profile.cpu.fibN}), ${t} thread${t > 1 ? "s" : ""}`,
        engine: "rapidai-memory",
        redis: false,
        params: {
          series: "memory-fib",
          threads: t,
          processes: 0,
          jobs: profile.scaling.cpuJobs,
          fibN: profile.cpu.fibN,
        },
      });
    }
    for (let p = 1; p <= profile.scaling.maxProcesses; p++) {
      specs.push({
        scenario: "scaling",
        id: `redis-processes-${p}`,
        label: `RedisQueue no-op, ${p} worker process${p > 1 ? "es" : ""}`,
        engine: "rapidai-redis",
        redis: true,
        params: {
          series: "redis-processes",
          threads: 1,
          processes: p,
          jobs: profile.scaling.redisJobs,
        },
      });
    }
    return specs;
  },

  async run(spec, ctx) {
    const size = Number(spec.params.jobs);
    const work: Work =
      spec.params.fibN === undefined
        ? { kind: "noop" }
        : { kind: "fib", n: Number(spec.params.fibN) };
    const o: EngineOptions = {
      work,
      threads: Number(spec.params.threads),
      ...(ctx.redisUrl === undefined ? {} : { redisUrl: ctx.redisUrl }),
    };
    const processes = Number(spec.params.processes);
    const engine: Engine =
      processes > 0 ? await openRapidaiRedis(o, processes) : await openEngine(spec.engine, o);
    try {
      const t = await timeBatches(spec.label, () => engine.run(size), {
        size,
        iterations: ctx.profile.iterations,
        warmup: Math.max(1, ctx.profile.warmup),
        onIteration: (done, total) => ctx.progress(done, total, "batches"),
      });
      return { figures: { jobsPerSec: t.perSecond }, stats: { jobsPerSec: t.stats } };
    } finally {
      await engine.close();
    }
  },

  derive(results) {
    for (const r of results) {
      const base = results.find(
        (b) =>
          seriesOf(b) === seriesOf(r) &&
          (seriesOf(r) === "redis-processes" ? b.params.processes === 1 : b.params.threads === 1),
      )?.figures.jobsPerSec;
      if (base !== undefined && r.figures.jobsPerSec !== undefined)
        r.figures.scale = r.figures.jobsPerSec / base;
    }
  },

  table(results) {
    return {
      headers: ["series", "jobs/batch", "jobs/s", "spread", "scale"],
      rows: results.map((r) => [
        r.label,
        fmtInt(Number(r.params.jobs)),
        statusOf(r) ?? fmtInt(r.figures.jobsPerSec),
        fmtPct(r.stats?.jobsPerSec?.rme),
        fmtRatio(r.figures.scale),
      ]),
    };
  },
};
