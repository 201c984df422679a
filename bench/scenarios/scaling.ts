/**
 * Scenario 6: how throughput grows with threads (1..cores) on the in-memory
 * queue, for no-op and CPU-bound jobs, and with worker processes (1..4, one
 * thread each) on the Redis queue.
 */
import { randomUUID } from "node:crypto";
import { InMemoryQueue } from "rapidai/background";
import type { EngineOptions } from "../engines/engine.js";
import { openRapidaiRedis } from "../engines/rapidai-redis.js";
import { fmtInt, fmtPct, fmtRatio, statusOf } from "../format.js";
import { interleave, rateOf, timeBatches } from "../stats.js";
import { fib, noop } from "../tasks.js";
import type { CaseResult, CaseSpec, SampleStats } from "../types.js";
import type { RunContext, Scenario } from "./scenario.js";

/** One in-memory queue per thread count in one process, their batches interleaved. */
async function threadSeries(spec: CaseSpec, ctx: RunContext) {
  const size = Number(spec.params.jobs);
  const maxThreads = Number(spec.params.maxThreads);
  const fibN = spec.params.fibN === undefined ? undefined : Number(spec.params.fibN);
  const queues = Array.from(
    { length: maxThreads },
    (_, i) => new InMemoryQueue({ threads: i + 1 }),
  );
  try {
    for (const q of queues) await q.start();
    const batch = (q: InMemoryQueue) => async () => {
      const all: Promise<string>[] = new Array(size);
      if (fibN === undefined)
        for (let i = 0; i < size; i++) all[i] = q.enqueue(randomUUID(), noop, []);
      else for (let i = 0; i < size; i++) all[i] = q.enqueue(randomUUID(), fib, [fibN]);
      await Promise.all(all);
      await q.onIdle();
    };
    const durations = await interleave(queues.map(batch), {
      rounds: ctx.profile.iterations,
      warmup: Math.max(1, ctx.profile.warmup),
      onRound: (done, total) => ctx.progress(done, total, "rounds"),
    });
    const figures: Record<string, number> = {};
    const stats: Record<string, SampleStats> = {};
    durations.forEach((ms, i) => {
      const r = rateOf(size, ms);
      figures[`jobsPerSec_${i + 1}`] = r.perSecond;
      stats[`jobsPerSec_${i + 1}`] = r.stats;
    });
    return { figures, stats };
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

async function processCase(spec: CaseSpec, ctx: RunContext) {
  const size = Number(spec.params.jobs);
  const o: EngineOptions = {
    work: { kind: "noop" },
    threads: 1,
    ...(ctx.redisUrl === undefined ? {} : { redisUrl: ctx.redisUrl }),
  };
  const engine = await openRapidaiRedis(o, Number(spec.params.processes));
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
}

export const scaling: Scenario = {
  id: "scaling",
  title: "Scaling with threads and processes",
  method:
    "In memory: one process holds one InMemoryQueue per thread count (1 to the number of cores) and runs " +
    "their batches in turn, round after round, so every thread count meets the same background load; with " +
    "no-op jobs and with `fib(n)` jobs (`queue.enqueue` per job, then `onIdle`). Redis: the benchmark process " +
    "only enqueues (`process: false`, `enqueueMany`) and 1..4 separate worker processes of one thread each run " +
    "the no-op jobs; each process count is its own case, timed with tinybench. scale = jobs/s ÷ jobs/s of " +
    "the same series at 1 thread or process.",

  plan({ profile, cores }) {
    const specs: CaseSpec[] = [
      {
        scenario: "scaling",
        id: "memory-noop",
        label: "InMemoryQueue no-op",
        engine: "rapidai-memory",
        redis: false,
        params: { series: "threads", maxThreads: cores, jobs: profile.scaling.noopJobs },
      },
      {
        scenario: "scaling",
        id: "memory-fib",
        label: `InMemoryQueue fib(${profile.cpu.fibN})`,
        engine: "rapidai-memory",
        redis: false,
        params: {
          series: "threads",
          maxThreads: cores,
          jobs: profile.scaling.cpuJobs,
          fibN: profile.cpu.fibN,
        },
      },
    ];
    for (let p = 1; p <= profile.scaling.maxProcesses; p++) {
      specs.push({
        scenario: "scaling",
        id: `redis-processes-${p}`,
        label: `RedisQueue no-op, ${p} worker process${p > 1 ? "es" : ""}`,
        engine: "rapidai-redis",
        redis: true,
        params: { series: "processes", processes: p, threads: 1, jobs: profile.scaling.redisJobs },
      });
    }
    return specs;
  },

  run(spec, ctx) {
    return spec.params.series === "threads" ? threadSeries(spec, ctx) : processCase(spec, ctx);
  },

  derive(results) {
    for (const r of results) {
      if (r.params.series === "threads") {
        const base = r.figures.jobsPerSec_1;
        for (let t = 1; r.figures[`jobsPerSec_${t}`] !== undefined; t++) {
          if (base !== undefined) r.figures[`scale_${t}`] = r.figures[`jobsPerSec_${t}`]! / base;
        }
      }
    }
    const base = results.find((b) => b.params.series === "processes" && b.params.processes === 1)
      ?.figures.jobsPerSec;
    for (const r of results) {
      if (
        r.params.series === "processes" &&
        base !== undefined &&
        r.figures.jobsPerSec !== undefined
      ) {
        r.figures.scale = r.figures.jobsPerSec / base;
      }
    }
  },

  table(results: CaseResult[]) {
    const rows: string[][] = [];
    for (const r of results) {
      const status = statusOf(r);
      if (r.params.series !== "threads") {
        rows.push([
          r.label,
          fmtInt(Number(r.params.jobs)),
          status ?? fmtInt(r.figures.jobsPerSec),
          fmtPct(r.stats?.jobsPerSec?.rme),
          fmtRatio(r.figures.scale),
        ]);
        continue;
      }
      if (status !== undefined) {
        rows.push([r.label, fmtInt(Number(r.params.jobs)), status, "–", "–"]);
        continue;
      }
      for (let t = 1; t <= Number(r.params.maxThreads); t++) {
        rows.push([
          `${r.label}, ${t} thread${t > 1 ? "s" : ""}`,
          fmtInt(Number(r.params.jobs)),
          fmtInt(r.figures[`jobsPerSec_${t}`]),
          fmtPct(r.stats?.[`jobsPerSec_${t}`]?.rme),
          fmtRatio(r.figures[`scale_${t}`]),
        ]);
      }
    }
    return { headers: ["series", "jobs/batch", "jobs/s", "spread", "scale"], rows };
  },
};
