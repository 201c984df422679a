/**
 * Scenario 4: latency of single jobs, enqueue → start and enqueue →
 * completed, at idle (one job at a time) and under a steady offered load.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { getQueue, type JobQueue } from "rapidai/background";
import { redisQueueAvailable } from "../engines/rapidai-redis.js";
import { fmtInt, fmtMs, statusOf } from "../format.js";
import { CaseSkipped } from "../skip.js";
import { summarize } from "../stats.js";
import { noop } from "../tasks.js";
import type { CaseResult, CaseSpec } from "../types.js";
import type { Scenario } from "./scenario.js";

const ENTRIES = [
  { engine: "rapidai-memory", label: "rapidai InMemoryQueue", redis: false, defaultRate: 10_000 },
  { engine: "rapidai-redis", label: "rapidai RedisQueue", redis: true, defaultRate: 1_000 },
];

/** Unmeasured jobs before the idle series: threads started, code warm. */
const WARMUP_JOBS = 50;

function openQueue(spec: CaseSpec, threads: number, redisUrl: string | undefined): JobQueue {
  if (spec.engine === "rapidai-memory") return getQueue("memory", { threads });
  if (!redisQueueAvailable())
    throw new CaseSkipped("RedisQueue is not exported by rapidai/background in this build");
  return getQueue("redis", { url: redisUrl, prefix: `bench-latency-${process.pid}:`, threads });
}

export const latency: Scenario = {
  id: "latency",
  title: "Job latency",
  method:
    "Enqueue time is read just before `task.enqueueWith({ jobId })`; start and completion times when the " +
    "queue's `started` and `completed` events for that jobId fire on the main thread. Idle: one no-op job " +
    "at a time, the next enqueued after the previous completed. Under load: no-op jobs offered at a steady " +
    "rate (a fraction of that backend's throughput measured earlier in the same run; paced by a 1 ms timer) " +
    "for a fixed time, then drained.",

  plan({ profile, threads, previous }) {
    return ENTRIES.map((e): CaseSpec => {
      const measured = previous.find((r) => r.scenario === "throughput" && r.engine === e.engine)
        ?.figures.jobsPerSec;
      const rate =
        measured === undefined
          ? e.defaultRate
          : Math.max(1, Math.round(measured * profile.latency.loadFraction));
      return {
        scenario: "latency",
        id: e.engine,
        label: e.label,
        engine: e.engine,
        redis: e.redis,
        params: {
          idleJobs: profile.latency.idleJobs,
          loadMs: profile.latency.loadMs,
          rate,
          rateBasis:
            measured === undefined
              ? "default (throughput not measured in this run)"
              : `${profile.latency.loadFraction * 100} % of its no-op throughput measured earlier in this run`,
          threads,
        },
      };
    });
  },

  async run(spec, ctx) {
    const queue = openQueue(spec, ctx.threads, ctx.redisUrl);
    const enqueuedAt = new Map<string, number>();
    let starts: number[] = [];
    let dones: number[] = [];
    const waiters = new Map<string, () => void>();
    let failure: unknown;
    queue.on("started", (e) => {
      const t0 = enqueuedAt.get(e.jobId);
      if (t0 !== undefined) starts.push(performance.now() - t0);
    });
    queue.on("completed", (e) => {
      const t0 = enqueuedAt.get(e.jobId);
      if (t0 === undefined) return;
      dones.push(performance.now() - t0);
      enqueuedAt.delete(e.jobId);
      waiters.get(e.jobId)?.();
    });
    queue.on("failed", (e) => {
      failure ??= new Error(`job ${e.jobId} failed: ${e.error}`);
    });
    let seq = 0;
    const nextId = () => `lat-${process.pid}-${++seq}`;
    const one = async (): Promise<void> => {
      const id = nextId();
      const done = new Promise<void>((resolve) => waiters.set(id, resolve));
      enqueuedAt.set(id, performance.now());
      await noop.enqueueWith({ jobId: id });
      await done;
      waiters.delete(id);
    };

    try {
      await queue.start();
      const idleJobs = Number(spec.params.idleJobs);
      const total = WARMUP_JOBS + idleJobs + 1;
      for (let i = 0; i < WARMUP_JOBS; i++) await one();
      starts = [];
      dones = [];
      for (let i = 0; i < idleJobs; i++) {
        // Let the pool and the event loop settle: "idle" means nothing else is in flight.
        await new Promise((r) => setImmediate(r));
        await one();
        if (i % 50 === 0) ctx.progress(WARMUP_JOBS + i, total, "idle jobs");
      }
      if (failure !== undefined) throw failure;
      const idleStart = summarize(starts);
      const idleDone = summarize(dones);

      ctx.progress(WARMUP_JOBS + idleJobs, total, "under load");
      starts = [];
      dones = [];
      const rate = Number(spec.params.rate);
      const loadJobs = Math.max(1, Math.round((rate * Number(spec.params.loadMs)) / 1000));
      const drained = new Promise<void>((resolve) => {
        queue.on("completed", () => {
          if (dones.length >= loadJobs) resolve();
        });
      });
      const enqueues: Promise<string>[] = [];
      const t0 = performance.now();
      let sent = 0;
      while (sent < loadJobs) {
        const due = Math.min(loadJobs, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
        for (; sent < due; sent++) {
          const id = nextId();
          enqueuedAt.set(id, performance.now());
          enqueues.push(noop.enqueueWith({ jobId: id }));
        }
        await sleep(1);
      }
      const offeredMs = performance.now() - t0;
      await Promise.all(enqueues);
      await drained;
      const drainedMs = performance.now() - t0;
      if (failure !== undefined) throw failure;
      const loadStart = summarize(starts);
      const loadDone = summarize(dones);
      ctx.progress(total, total, "done");
      return {
        figures: {
          idleStartP50Ms: idleStart.p50,
          idleStartP99Ms: idleStart.p99,
          idleStartMaxMs: idleStart.max,
          idleDoneP50Ms: idleDone.p50,
          idleDoneP99Ms: idleDone.p99,
          idleJobs: idleDone.count,
          loadStartP50Ms: loadStart.p50,
          loadStartP99Ms: loadStart.p99,
          loadDoneP50Ms: loadDone.p50,
          loadDoneP99Ms: loadDone.p99,
          loadJobs: loadDone.count,
          offeredRate: rate,
          achievedOfferRate: (loadJobs * 1000) / offeredMs,
          completedRate: (loadDone.count * 1000) / drainedMs,
        },
        ...(drainedMs > offeredMs * 1.1 + 100
          ? {
              notes: [
                `the queue fell behind the offered load: the last job completed ${Math.round(drainedMs - offeredMs)} ms ` +
                  "after the last enqueue, so the load figures include a backlog",
              ],
            }
          : {}),
      };
    } finally {
      await queue.close();
    }
  },

  table(results: CaseResult[]) {
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
      rows.push([
        r.label,
        `load, ${fmtInt(f.offeredRate)} jobs/s offered, ${fmtInt(f.completedRate)} done`,
        fmtInt(f.loadJobs),
        fmtMs(f.loadStartP50Ms),
        fmtMs(f.loadStartP99Ms),
        fmtMs(f.loadDoneP50Ms),
        fmtMs(f.loadDoneP99Ms),
      ]);
    }
    return {
      headers: ["queue", "condition", "jobs", "→start p50", "→start p99", "→done p50", "→done p99"],
      rows,
      footnotes: results
        .filter((r) => r.params.rateBasis !== undefined && statusOf(r) === undefined)
        .map((r) => `${r.label}: load rate = ${r.params.rateBasis}.`),
    };
  },
};
