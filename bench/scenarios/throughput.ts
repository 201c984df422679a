/**
 * Scenario 1: no-op job throughput, end to end. Each engine submits a batch
 * of N no-op jobs (in bulk where the library offers it) and waits until all
 * have completed; jobs/s is total jobs over total time of the measured batches.
 */
import { Redis } from "ioredis";
import { openEngine } from "../engines/index.js";
import { fmtInt, fmtNum, fmtPct, fmtRatio, statusOf } from "../format.js";
import { redisCommands, redisCpuSeconds } from "../redis.js";
import { timeBatches } from "../stats.js";
import type { CaseResult, CaseSpec } from "../types.js";
import type { Scenario } from "./scenario.js";

interface Entry {
  engine: string;
  label: string;
  redis: boolean;
  size: "fast" | "redis" | "sandboxed";
  setup: string;
}

const ENTRIES: Entry[] = [
  {
    engine: "rapidai-memory",
    label: "rapidai InMemoryQueue",
    redis: false,
    size: "fast",
    setup: "threads = T",
  },
  {
    engine: "piscina",
    label: "piscina.run() (raw pool)",
    redis: false,
    size: "fast",
    setup: "threads = T",
  },
  {
    engine: "tinypool",
    label: "tinypool.run() (raw pool)",
    redis: false,
    size: "fast",
    setup: "threads = T",
  },
  {
    engine: "rapidai-redis",
    label: "rapidai RedisQueue",
    redis: true,
    size: "redis",
    setup: "threads = T",
  },
  {
    engine: "bullmq",
    label: "BullMQ in-process",
    redis: true,
    size: "redis",
    setup: "concurrency 50, main thread",
  },
  {
    engine: "bullmq-threads",
    label: "BullMQ useWorkerThreads",
    redis: true,
    size: "sandboxed",
    setup: "sandboxed file, concurrency 8",
  },
  {
    engine: "bee-queue",
    label: "bee-queue in-process",
    redis: true,
    size: "redis",
    setup: "concurrency 50, main thread",
  },
];

/** Ratio of two engines' jobs/s from this run, or undefined if either was not measured. */
export function throughputRatio(
  results: readonly CaseResult[],
  a: string,
  b: string,
): number | undefined {
  const x = results.find((r) => r.scenario === "throughput" && r.engine === a)?.figures.jobsPerSec;
  const y = results.find((r) => r.scenario === "throughput" && r.engine === b)?.figures.jobsPerSec;
  return x === undefined || y === undefined ? undefined : x / y;
}

export const throughput: Scenario = {
  id: "throughput",
  title: "No-op job throughput",
  method:
    "Each engine submits a batch of N no-op jobs and waits until every job has completed: BullMQ `addBulk`, " +
    "bee-queue `saveAll` and our RedisQueue `enqueueMany` in chunks of 1,000 sent together; one " +
    "`task.enqueue()` per job on our InMemoryQueue; one `run()` per task on the raw pools. " +
    "tinybench times the batches (warm-up batches unmeasured); jobs/s = jobs / time over the " +
    "measured batches. Every library keeps its default job retention.",

  plan({ profile, threads }) {
    return ENTRIES.map(
      (e): CaseSpec => ({
        scenario: "throughput",
        id: e.engine,
        label: e.label,
        engine: e.engine,
        redis: e.redis,
        params: {
          jobs: profile.throughput[e.size],
          threads,
          setup: e.setup.replace("T", String(threads)),
        },
      }),
    );
  },

  async run(spec, ctx) {
    const size = Number(spec.params.jobs);
    const engine = await openEngine(spec.engine, {
      work: { kind: "noop" },
      threads: ctx.threads,
      ...(ctx.redisUrl === undefined ? {} : { redisUrl: ctx.redisUrl }),
    });
    // Redis's own CPU time per job shows what each library's scripts cost the server.
    const redis = ctx.redisUrl === undefined ? undefined : new Redis(ctx.redisUrl);
    try {
      const cpuBefore = redis === undefined ? 0 : await redisCpuSeconds(redis);
      const commandsBefore = redis === undefined ? 0 : await redisCommands(redis);
      const t = await timeBatches(spec.label, () => engine.run(size), {
        size,
        iterations: ctx.profile.iterations,
        warmup: ctx.profile.warmup,
        onIteration: (done, total) => ctx.progress(done, total, "batches"),
      });
      const figures: Record<string, number> = { jobsPerSec: t.perSecond, batchJobs: size };
      if (redis !== undefined) {
        const jobs = size * (ctx.profile.iterations + ctx.profile.warmup);
        figures.redisCpuUsPerJob = (((await redisCpuSeconds(redis)) - cpuBefore) * 1e6) / jobs;
        // Minus the two INFO calls made after the first reading.
        figures.redisCommandsPerJob = ((await redisCommands(redis)) - commandsBefore - 2) / jobs;
      }
      return { figures, stats: { jobsPerSec: t.stats } };
    } finally {
      redis?.disconnect();
      await engine.close();
    }
  },

  derive(results) {
    const piscina = results.find((r) => r.engine === "piscina")?.figures.jobsPerSec;
    for (const r of results) {
      if (piscina !== undefined && r.figures.jobsPerSec !== undefined) {
        r.figures.vsPiscina = r.figures.jobsPerSec / piscina;
      }
    }
  },

  table(results) {
    return {
      headers: [
        "engine",
        "setup",
        "jobs/batch",
        "jobs/s",
        "spread",
        "vs piscina",
        "Redis CPU/job",
        "commands/job",
      ],
      rows: results.map((r) => [
        r.label,
        String(r.params.setup ?? ""),
        fmtInt(Number(r.params.jobs)),
        statusOf(r) ?? fmtInt(r.figures.jobsPerSec),
        fmtPct(r.stats?.jobsPerSec?.rme),
        fmtRatio(r.figures.vsPiscina),
        r.figures.redisCpuUsPerJob === undefined
          ? ""
          : `${fmtNum(r.figures.redisCpuUsPerJob, 1)} µs`,
        r.figures.redisCommandsPerJob === undefined ? "" : fmtNum(r.figures.redisCommandsPerJob),
      ]),
      footnotes: [
        "spread: 95 % margin of error of the per-batch rate (tinybench rme).",
        "Redis CPU/job: the server's user + system CPU time over all batches (warm-up included) ÷ jobs; " +
          "commands/job: commands the server executed over the same span, those run inside Lua scripts included, ÷ jobs.",
      ],
    };
  },
};
