/**
 * Scenario 4: latency of single jobs, enqueue → start and enqueue → done, at
 * idle (one job at a time) and as a curve under a steady offered load: 10 %,
 * 25 %, 50 % and 80 % of each engine's no-op throughput measured earlier in
 * the same run. The targets are judged head to head, the engines taking
 * turns: our InMemoryQueue against Piscina at Piscina's rates
 * (latency-head-to-head.ts), our RedisQueue against BullMQ at idle
 * (latency-redis-idle.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { fmtInt, fmtMs, statusOf } from "../format.js";
import {
  fellBehind,
  idleSeries,
  loadPoint,
  SETTLE_MS,
  WARMUP_JOBS,
  WARMUP_LOAD_MS,
} from "../latency-load.js";
import { openSubject } from "../latency-subjects.js";
import type { CaseResult, CaseSpec } from "../types.js";
import {
  HEAD_TO_HEAD_ID,
  headToHeadCase,
  headToHeadRows,
  runHeadToHead,
} from "./latency-head-to-head.js";
import { REDIS_IDLE_ID, redisIdleCase, redisIdleRows, runRedisIdle } from "./latency-redis-idle.js";
import type { Scenario } from "./scenario.js";

/** Shares of the measured throughput offered, in order. */
export const LOAD_FRACTIONS = [0.1, 0.25, 0.5, 0.8];

const ENTRIES = [
  { engine: "rapidai-memory", label: "rapidai InMemoryQueue", redis: false, defaultRate: 20_000 },
  { engine: "piscina", label: "piscina.run() (raw pool)", redis: false, defaultRate: 20_000 },
  { engine: "rapidai-redis", label: "rapidai RedisQueue", redis: true, defaultRate: 8_000 },
  { engine: "bullmq", label: "BullMQ in-process", redis: true, defaultRate: 4_000 },
  { engine: "bee-queue", label: "bee-queue in-process", redis: true, defaultRate: 8_000 },
];

/** One point of the curve to measure: a rate, and what it is a share of. */
interface Point {
  rate: number;
  fraction: number;
  /** Whose throughput the rate is a share of. */
  of: string;
}

function measured(previous: readonly CaseResult[], engine: string): number | undefined {
  return previous.find((r) => r.scenario === "throughput" && r.engine === engine)?.figures
    .jobsPerSec;
}

/** The curve's points of a latency case, from its params (`rates`, `fractions`, `of`: comma lists). */
function pointsOf(spec: CaseSpec): Point[] {
  const rates = String(spec.params.rates).split(",").map(Number);
  const fractions = String(spec.params.fractions).split(",").map(Number);
  const of = String(spec.params.of).split(",");
  return rates.map((rate, i) => ({ rate, fraction: fractions[i]!, of: of[i]! }));
}

/** How many load points a latency result holds. */
export function pointCount(r: CaseResult): number {
  let n = 0;
  while (r.figures[`p${n}:offeredRate`] !== undefined) n++;
  return n;
}

export const latency: Scenario = {
  id: "latency",
  title: "Job latency",
  method:
    "Enqueue time is read just before the job is submitted (`task.enqueueWith({ jobId })`, `pool.run()`, " +
    "BullMQ `queue.add`, bee-queue `job.save()`); start and done times when the engine's own events for that " +
    "job fire on the main thread (ours: the queue's `started` and `completed`; BullMQ: the worker's `active` " +
    "and `completed`; bee-queue: `succeeded`, it reports no start; Piscina: the `run()` promise). Idle: one " +
    "no-op job at a time, the next submitted after the previous was done. Under load: no-op jobs offered at " +
    "a steady rate, paced by a 1 ms timer, for a fixed time, then drained, after an unmeasured second at the " +
    "lowest rate; the rates are 10 %, 25 %, 50 % and 80 % of each engine's no-op throughput measured " +
    "earlier in the same run. Head to head (the target): our InMemoryQueue and Piscina, each in a process " +
    "of its own, offered Piscina's rates point by point in turn (each round starting with the other " +
    "engine; the other process idle meanwhile), after 2 s of unmeasured load each; each engine's figure " +
    "at a rate is its median over the rounds. The chart plots each engine's own curve, →done p99 " +
    "against the offered rate.",

  plan({ profile, threads, previous }) {
    const piscina = measured(previous, "piscina");
    const cases = ENTRIES.map((e): CaseSpec => {
      const own = measured(previous, e.engine);
      const points: Point[] = LOAD_FRACTIONS.map((fraction) => ({
        rate: Math.max(1, Math.round((own ?? e.defaultRate) * fraction)),
        fraction,
        of: own === undefined ? "default" : e.engine,
      }));
      return {
        scenario: "latency",
        id: e.engine,
        label: e.label,
        engine: e.engine,
        redis: e.redis,
        params: {
          idleJobs: profile.latency.idleJobs,
          loadMs: profile.latency.loadMs,
          rates: points.map((p) => p.rate).join(","),
          fractions: points.map((p) => p.fraction).join(","),
          of: points.map((p) => p.of).join(","),
          threads,
        },
      };
    });
    const shares = LOAD_FRACTIONS.map((fraction) => ({
      rate: Math.max(1, Math.round((piscina ?? 20_000) * fraction)),
      fraction,
    }));
    cases.splice(
      2,
      0,
      headToHeadCase(shares, piscina === undefined ? "default" : "piscina", profile, threads),
    );
    cases.push(redisIdleCase(profile, threads));
    return cases;
  },

  async run(spec, ctx) {
    if (spec.id === HEAD_TO_HEAD_ID) return runHeadToHead(spec, ctx);
    if (spec.id === REDIS_IDLE_ID) return runRedisIdle(spec, ctx);
    const subject = await openSubject(spec.engine, {
      threads: ctx.threads,
      redisUrl: ctx.redisUrl,
    });
    try {
      const idleJobs = Number(spec.params.idleJobs);
      const points = pointsOf(spec);
      const total = WARMUP_JOBS + idleJobs + points.length;
      const idle = await idleSeries(subject, idleJobs, ctx.progress, total);
      const figures: Record<string, number> = {
        idleDoneP50Ms: idle.done.p50,
        idleDoneP99Ms: idle.done.p99,
        idleJobs: idle.done.count,
      };
      // Start figures only where the engine reports a start.
      if (idle.start.count > 0) {
        figures.idleStartP50Ms = idle.start.p50;
        figures.idleStartP99Ms = idle.start.p99;
        figures.idleStartMaxMs = idle.start.max;
      }
      const notes: string[] = [];
      if (points.length > 0) {
        await loadPoint(
          subject,
          points[0]!.rate,
          Math.min(WARMUP_LOAD_MS, Number(spec.params.loadMs)),
        );
        await sleep(SETTLE_MS);
      }
      for (const [i, p] of points.entries()) {
        ctx.progress(WARMUP_JOBS + idleJobs + i, total, `${p.rate} jobs/s`);
        const r = await loadPoint(subject, p.rate, Number(spec.params.loadMs));
        const k = `p${i}:`;
        figures[`${k}offeredRate`] = p.rate;
        figures[`${k}fraction`] = p.fraction;
        figures[`${k}achievedOfferRate`] = r.achieved;
        figures[`${k}completedRate`] = r.completed;
        figures[`${k}jobs`] = r.done.count;
        if (r.start.count > 0) {
          figures[`${k}startP50Ms`] = r.start.p50;
          figures[`${k}startP99Ms`] = r.start.p99;
        }
        figures[`${k}doneP50Ms`] = r.done.p50;
        figures[`${k}doneP99Ms`] = r.done.p99;
        figures[`${k}doneMaxMs`] = r.done.max;
        if (fellBehind(r.backlogMs, Number(spec.params.loadMs))) {
          notes.push(
            `at ${fmtInt(p.rate)} jobs/s it fell behind: the last job was done ${Math.round(r.backlogMs)} ms after the last submit`,
          );
        }
        await sleep(SETTLE_MS);
      }
      ctx.progress(total, total, "done");
      return { figures, ...(notes.length > 0 ? { notes } : {}) };
    } finally {
      await subject.close();
    }
  },

  table(results: CaseResult[], ctx) {
    const rows: string[][] = [];
    for (const r of results) {
      const status = statusOf(r);
      if (status !== undefined) {
        rows.push([r.label, "–", status, "", "", "", ""]);
        continue;
      }
      if (r.id === HEAD_TO_HEAD_ID || r.id === REDIS_IDLE_ID) {
        rows.push(...(r.id === HEAD_TO_HEAD_ID ? headToHeadRows(r) : redisIdleRows(r)));
        continue;
      }
      const f = r.figures;
      rows.push([
        r.label,
        "idle, one at a time",
        fmtInt(f.idleJobs),
        fmtMs(f.idleStartP50Ms),
        fmtMs(f.idleStartP99Ms),
        fmtMs(f.idleDoneP50Ms),
        fmtMs(f.idleDoneP99Ms),
      ]);
      const of = String(r.params.of).split(",");
      for (let i = 0; i < pointCount(r); i++) {
        const k = `p${i}:`;
        const share = `${Math.round(f[`${k}fraction`]! * 100)} % of ${of[i] === r.engine ? "its" : of[i]} throughput`;
        rows.push([
          r.label,
          `${fmtInt(f[`${k}offeredRate`])} jobs/s offered (${share}), ${fmtInt(f[`${k}completedRate`])} done`,
          fmtInt(f[`${k}jobs`]),
          fmtMs(f[`${k}startP50Ms`]),
          fmtMs(f[`${k}startP99Ms`]),
          fmtMs(f[`${k}doneP50Ms`]),
          fmtMs(f[`${k}doneP99Ms`]),
        ]);
      }
    }
    const defaults = results.some((r) => String(r.params.of).includes("default"));
    return {
      headers: ["queue", "condition", "jobs", "→start p50", "→start p99", "→done p50", "→done p99"],
      rows,
      footnotes: [
        "Chart of →done p99 against the offered rate: [latency.svg](latency.svg).",
        `Each load point lasts ${fmtInt(ctx.profile.latency.loadMs)} ms; "done" is jobs ÷ (offer time + drain time). Piscina and bee-queue report no start.`,
        ...(defaults
          ? ["Some rates are defaults: that engine's throughput was not measured in this run."]
          : []),
      ],
    };
  },
};
