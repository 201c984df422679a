/**
 * The engine's published targets, judged against figures from this run only.
 * A target whose figures were not measured in the run is `met: null`, never
 * guessed from an older run.
 */
import { HEAD_TO_HEAD_ID, headToHeadP99, rateCount } from "./scenarios/latency-head-to-head.js";
import { REDIS_IDLE_ID } from "./scenarios/latency-redis-idle.js";
import { payloadRatio } from "./scenarios/payload.js";
import { throughputRatio } from "./scenarios/throughput.js";
import type { CaseResult, TargetResult } from "./types.js";

function find(
  results: readonly CaseResult[],
  scenario: string,
  id: string,
): CaseResult | undefined {
  return results.find((r) => r.scenario === scenario && r.id === id);
}

function judge(t: Omit<TargetResult, "met" | "figure">, figure: number | undefined): TargetResult {
  const value = figure === undefined || !Number.isFinite(figure) ? null : figure;
  let met: boolean | null = null;
  if (value !== null) {
    met =
      t.comparator === ">="
        ? value >= t.threshold
        : t.comparator === "<="
          ? value <= t.threshold
          : value < t.threshold;
  }
  return { ...t, figure: value, met };
}

export function evaluateTargets(results: readonly CaseResult[], cores: number): TargetResult[] {
  const targets: TargetResult[] = [
    judge(
      {
        id: "memory-throughput-vs-piscina",
        description: "in-memory no-op throughput ≥ 0.8× raw Piscina",
        unit: "×",
        threshold: 0.8,
        comparator: ">=",
        basis:
          "throughput: rapidai InMemoryQueue jobs/s ÷ piscina.run() jobs/s, same run, same threads",
      },
      throughputRatio(results, "rapidai-memory", "piscina"),
    ),
    judge(
      {
        id: "redis-throughput-vs-bullmq-threads",
        description: "Redis throughput with worker threads ≥ 3× BullMQ useWorkerThreads",
        unit: "×",
        threshold: 3,
        comparator: ">=",
        basis: "throughput: rapidai RedisQueue jobs/s ÷ BullMQ useWorkerThreads (c=8) jobs/s",
      },
      throughputRatio(results, "rapidai-redis", "bullmq-threads"),
    ),
    judge(
      {
        id: "redis-throughput-vs-bullmq",
        description: "Redis throughput with worker threads ≥ 1× BullMQ in-process",
        unit: "×",
        threshold: 1,
        comparator: ">=",
        basis: "throughput: rapidai RedisQueue jobs/s ÷ BullMQ in-process (c=50) jobs/s",
      },
      throughputRatio(results, "rapidai-redis", "bullmq"),
    ),
    judge(
      {
        id: "cpu-speedup",
        description: `CPU speedup ≥ 0.9 × cores (${cores} cores → ${(0.9 * cores).toFixed(1)}×)`,
        unit: "×",
        threshold: 0.9 * cores,
        comparator: ">=",
        basis: "cpu-speedup: rapidai InMemoryQueue jobs/s ÷ main-thread serial jobs/s",
      },
      find(results, "cpu-speedup", "rapidai-memory")?.figures.speedup,
    ),
    judge(
      {
        id: "event-loop-p99",
        description: "event-loop delay p99 < 5 ms while the pool is saturated",
        unit: "ms",
        threshold: 5,
        comparator: "<",
        basis: "event-loop: rapidai InMemoryQueue, monitorEventLoopDelay p99 minus resolution",
      },
      find(results, "event-loop", "rapidai-memory")?.figures.p99Ms,
    ),
    judge(
      {
        id: "idle-enqueue-to-start-p99",
        description: "enqueue → start p99 < 1 ms at idle, in memory",
        unit: "ms",
        threshold: 1,
        comparator: "<",
        basis: "latency: rapidai InMemoryQueue, one job at a time",
      },
      find(results, "latency", "rapidai-memory")?.figures.idleStartP99Ms,
    ),
  ];
  targets.push(...latencyTargets(results));
  const redisPerJob = (engine: string) =>
    find(results, "memory", `${engine}-redis`)?.figures.redisBytesPerJob;
  const ours = redisPerJob("rapidai-redis");
  const bull = redisPerJob("bullmq");
  targets.push(
    judge(
      {
        id: "redis-memory-per-job-vs-bullmq",
        description: "Redis used_memory per pending job ≤ BullMQ's",
        unit: "×",
        threshold: 1,
        comparator: "<=",
        basis: "memory: rapidai RedisQueue used_memory growth per pending job ÷ BullMQ's, same run",
      },
      ours === undefined || bull === undefined ? undefined : ours / bull,
    ),
  );
  for (const mib of [1, 4]) {
    targets.push(
      judge(
        {
          id: `payload-${mib}mib-vs-piscina-transfer`,
          description: `${mib} MiB Float64Array jobs with move() ≥ 0.9× Piscina with transferList`,
          unit: "×",
          threshold: 0.9,
          comparator: ">=",
          basis:
            "payload: rapidai InMemoryQueue + move() jobs/s ÷ piscina.run() + transferList jobs/s",
        },
        payloadRatio(results, mib * 1024 * 1024),
      ),
    );
  }
  const memoryCases = results.filter((r) => r.scenario === "memory" && r.params.store === "heap");
  for (const r of memoryCases) {
    targets.push(
      judge(
        {
          id: `memory-per-job-${r.params.mode}-${r.params.jobs}`,
          description: `≤ 300 bytes per pending in-memory job (${r.params.mode}, ${Number(r.params.jobs).toLocaleString("en-US")} jobs)`,
          unit: "B",
          threshold: 300,
          comparator: "<=",
          basis: `memory: ${r.label}, heapUsed growth ÷ jobs (no arguments)`,
        },
        r.figures.heapBytesPerJob,
      ),
    );
  }
  if (memoryCases.length === 0) {
    targets.push(
      judge(
        {
          id: "memory-per-job",
          description: "≤ 300 bytes per pending in-memory job",
          unit: "B",
          threshold: 300,
          comparator: "<=",
          basis: "memory scenario not run",
        },
        undefined,
      ),
    );
  }
  return targets;
}

/**
 * Under load, ours in memory against Piscina at the same offered rates (the
 * shares of Piscina's throughput up to 80 %): our →done p99 ÷ Piscina's, at
 * most 1. At idle, our RedisQueue's →done p50 ÷ BullMQ's, at most 1.
 */
function latencyTargets(results: readonly CaseResult[]): TargetResult[] {
  const both = find(results, "latency", HEAD_TO_HEAD_ID);
  const out: TargetResult[] = [];
  const rates = both === undefined ? 0 : rateCount(both);
  for (let i = 0; i < rates; i++) {
    const h = headToHeadP99(both!, i);
    if (h === undefined) continue;
    out.push(
      judge(
        {
          id: `latency-p99-vs-piscina-${Math.round(h.fraction * 100)}`,
          description: `in-memory enqueue → done p99 ≤ Piscina's at ${Math.round(h.fraction * 100)} % of Piscina's throughput`,
          unit: "×",
          threshold: 1,
          comparator: "<=",
          basis: `latency, head to head: rapidai InMemoryQueue →done p99 ÷ piscina.run() →done p99, both offered ${h.rate} jobs/s in turn, medians of ${both!.figures[`h${i}:rounds`]} runs each`,
        },
        h.ours / h.piscina,
      ),
    );
  }
  if (out.length === 0) {
    out.push(
      judge(
        {
          id: "latency-p99-vs-piscina",
          description:
            "in-memory enqueue → done p99 ≤ Piscina's up to 80 % of Piscina's throughput",
          unit: "×",
          threshold: 1,
          comparator: "<=",
          basis: "latency and throughput scenarios not both run",
        },
        undefined,
      ),
    );
  }
  // Head to head when that case ran; else the two engines' own cases.
  const idle = find(results, "latency", REDIS_IDLE_ID)?.figures;
  const redis =
    idle?.oursIdleDoneP50Ms ?? find(results, "latency", "rapidai-redis")?.figures.idleDoneP50Ms;
  const bull =
    idle?.bullmqIdleDoneP50Ms ?? find(results, "latency", "bullmq")?.figures.idleDoneP50Ms;
  out.push(
    judge(
      {
        id: "redis-idle-done-p50-vs-bullmq",
        description: "RedisQueue idle enqueue → done p50 ≤ BullMQ's",
        unit: "×",
        threshold: 1,
        comparator: "<=",
        basis:
          idle === undefined
            ? "latency: rapidai RedisQueue idle →done p50 ÷ BullMQ in-process idle →done p50"
            : `latency, Redis idle head to head: rapidai RedisQueue →done p50 ÷ BullMQ in-process →done p50, ${idle.rounds} rounds of ${idle.jobsPerRound} jobs each in turn`,
      },
      redis === undefined || bull === undefined ? undefined : redis / bull,
    ),
  );
  return out;
}
