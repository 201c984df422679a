/**
 * Scenario 4: latency of single jobs, enqueue → start and enqueue → done, at
 * idle (one job at a time) and as a curve under a steady offered load: 10 %,
 * 25 %, 50 % and 80 % of each engine's no-op throughput measured earlier in
 * the same run. Our InMemoryQueue is also offered Piscina's rates, so the two
 * compare at the same load.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { fmtInt, fmtMs, statusOf } from "../format.js";
import { type LatencySubject, openSubject } from "../latency-subjects.js";
import { summarize } from "../stats.js";
import type { CaseResult, CaseSpec } from "../types.js";
import type { RunContext, Scenario } from "./scenario.js";

/** Shares of the measured throughput offered, in order. */
export const LOAD_FRACTIONS = [0.1, 0.25, 0.5, 0.8];

const ENTRIES = [
  { engine: "rapidai-memory", label: "rapidai InMemoryQueue", redis: false, defaultRate: 20_000 },
  { engine: "piscina", label: "piscina.run() (raw pool)", redis: false, defaultRate: 20_000 },
  { engine: "rapidai-redis", label: "rapidai RedisQueue", redis: true, defaultRate: 8_000 },
  { engine: "bullmq", label: "BullMQ in-process", redis: true, defaultRate: 4_000 },
  { engine: "bee-queue", label: "bee-queue in-process", redis: true, defaultRate: 8_000 },
];

/** Unmeasured jobs before the idle series: threads started, code warm. */
const WARMUP_JOBS = 50;
/**
 * Unmeasured load before the curve, at its lowest rate: the first seconds
 * under load run code the idle series never reached (batching, the pool's
 * queue) before it is optimised, and whichever point came first carried
 * that (p99 5.95 against 2.14 and 2.01 ms in the two after it at the same
 * rate, ours; 3.10 against 0.96 and 0.73 ms, Piscina's).
 */
const WARMUP_LOAD_MS = 1_000;
/** A short pause after each load run, so one run's backlog and garbage do not start the next. */
const SETTLE_MS = 200;
/** Longest the backlog of one load point may take to drain after its offer ended. */
const DRAIN_LIMIT_MS = 30_000;

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

/** Runs one job at a time, the next once the previous was done. */
async function idleSeries(s: LatencySubject, jobs: number, ctx: RunContext, total: number) {
  const starts: number[] = [];
  const dones: number[] = [];
  for (let i = 0; i < WARMUP_JOBS + jobs; i++) {
    // Let the pool and the event loop settle: "idle" means nothing else is in flight.
    await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    await new Promise<void>((resolve) =>
      s.submit((startedAt, doneAt) => {
        if (i >= WARMUP_JOBS) {
          if (startedAt !== undefined) starts.push(startedAt - t0);
          dones.push(doneAt - t0);
        }
        resolve();
      }),
    );
    const failure = s.failure();
    if (failure !== undefined) throw failure;
    if (i % 50 === 0) ctx.progress(i, total, "idle jobs");
  }
  return { start: summarize(starts), done: summarize(dones) };
}

/** Offers `rate` jobs/s for `ms`, paced by a 1 ms timer, then waits for the backlog to drain. */
async function loadPoint(s: LatencySubject, rate: number, ms: number) {
  const jobs = Math.max(1, Math.round((rate * ms) / 1000));
  const starts: number[] = [];
  const dones: number[] = [];
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((r) => {
    resolveAll = r;
  });
  const t0 = performance.now();
  let sent = 0;
  while (sent < jobs) {
    const due = Math.min(jobs, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const at = performance.now();
      s.submit((startedAt, doneAt) => {
        if (startedAt !== undefined) starts.push(startedAt - at);
        dones.push(doneAt - at);
        if (dones.length === jobs) resolveAll();
      });
    }
    await sleep(1);
  }
  const offeredMs = performance.now() - t0;
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    all.then(() => true),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), DRAIN_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
  const failure = s.failure();
  if (failure !== undefined) throw failure;
  if (!drained)
    throw new Error(`${jobs - dones.length} of ${jobs} jobs at ${rate} jobs/s never ended`);
  const totalMs = performance.now() - t0;
  return {
    start: summarize(starts),
    done: summarize(dones),
    achieved: (jobs * 1000) / offeredMs,
    completed: (jobs * 1000) / totalMs,
    backlogMs: totalMs - offeredMs,
  };
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
    "earlier in the same run, and our InMemoryQueue is also " +
    "offered Piscina's rates. The chart plots →done p99 against the offered rate.",

  plan({ profile, threads, previous }) {
    const piscina = measured(previous, "piscina");
    return ENTRIES.map((e): CaseSpec => {
      const own = measured(previous, e.engine);
      const points: Point[] = LOAD_FRACTIONS.map((fraction) => ({
        rate: Math.max(1, Math.round((own ?? e.defaultRate) * fraction)),
        fraction,
        of: own === undefined ? "default" : e.engine,
      }));
      if (e.engine === "rapidai-memory" && piscina !== undefined) {
        for (const fraction of LOAD_FRACTIONS) {
          points.push({
            rate: Math.max(1, Math.round(piscina * fraction)),
            fraction,
            of: "piscina",
          });
        }
      }
      points.sort((a, b) => a.rate - b.rate);
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
  },

  async run(spec, ctx) {
    const subject = await openSubject(spec.engine, {
      threads: ctx.threads,
      redisUrl: ctx.redisUrl,
    });
    try {
      const idleJobs = Number(spec.params.idleJobs);
      const points = pointsOf(spec);
      const total = WARMUP_JOBS + idleJobs + points.length;
      const idle = await idleSeries(subject, idleJobs, ctx, total);
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
        if (r.backlogMs > 100 + Number(spec.params.loadMs) * 0.1) {
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
