/**
 * Scenario 3: event-loop delay on the main thread while CPU-heavy jobs run,
 * on a saturated pool and, for comparison, on the main thread itself.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fibonacci } from "../cpu.js";
import { openEngine } from "../engines/index.js";
import { fmtInt, fmtMs, statusOf } from "../format.js";
import type { CaseSpec } from "../types.js";
import type { Scenario } from "./scenario.js";

/** Sampling interval of the delay histogram, ms; it is subtracted from every sample. */
const RESOLUTION_MS = 1;

const ENTRIES = [
  { engine: "rapidai-memory", label: "rapidai InMemoryQueue (pool saturated)", redis: false },
  { engine: "piscina", label: "piscina.run() (pool saturated)", redis: false },
  { engine: "rapidai-redis", label: "rapidai RedisQueue (pool saturated)", redis: true },
  { engine: "main-thread", label: "same jobs on the main thread", redis: false },
];

/** The main-thread comparison at its kindest: one job per event-loop turn, never a long blocking loop. */
async function onMainThread(jobs: number, n: number): Promise<void> {
  let sink = 0;
  for (let i = 0; i < jobs; i++) {
    sink += fibonacci(n);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (sink < 0) throw new Error("unreachable");
}

export const eventLoop: Scenario = {
  id: "event-loop",
  title: "Event-loop delay while CPU-bound jobs run",
  method:
    "`perf_hooks.monitorEventLoopDelay({ resolution: 1 })` samples the main thread while N `fib(n)` jobs run. " +
    "For the pools all N are submitted at once, so every thread is busy until the tail. For the main-thread " +
    "comparison the same jobs run one per event-loop turn (its best case). Delay = interval between ticks " +
    "minus the 1 ms resolution; a warm-up batch runs first, unmeasured.",

  plan({ profile, threads }) {
    return ENTRIES.map(
      (e): CaseSpec => ({
        scenario: "event-loop",
        id: e.engine,
        label: e.label,
        engine: e.engine,
        redis: e.redis,
        params: {
          jobs: profile.eventLoop.jobs,
          fibN: profile.eventLoop.fibN,
          threads: e.engine === "main-thread" ? 0 : threads,
        },
      }),
    );
  },

  async run(spec, ctx) {
    const jobs = Number(spec.params.jobs);
    const fibN = Number(spec.params.fibN);
    const engine =
      spec.engine === "main-thread"
        ? undefined
        : await openEngine(spec.engine, {
            work: { kind: "fib", n: fibN },
            threads: ctx.threads,
            ...(ctx.redisUrl === undefined ? {} : { redisUrl: ctx.redisUrl }),
          });
    const run = (n: number) => (engine === undefined ? onMainThread(n, fibN) : engine.run(n));
    try {
      ctx.progress(0, 2, "warm-up");
      await run(Math.min(jobs, 4 * ctx.threads));
      ctx.progress(1, 2, "measuring");
      const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      const started = performance.now();
      h.enable();
      await run(jobs);
      h.disable();
      const durationMs = performance.now() - started;
      ctx.progress(2, 2, "done");
      if (h.count === 0)
        throw new Error("no event-loop samples: the jobs ran for less than one sampling interval");
      const delay = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
      return {
        figures: {
          p50Ms: delay(h.percentile(50)),
          p99Ms: delay(h.percentile(99)),
          maxMs: delay(h.max),
          meanMs: delay(h.mean),
          ticks: h.count,
          durationMs,
        },
      };
    } finally {
      await engine?.close();
    }
  },

  table(results) {
    return {
      headers: [
        "where the jobs run",
        "jobs",
        "ran for",
        "p50 delay",
        "p99 delay",
        "max delay",
        "ticks",
      ],
      rows: results.map((r) => [
        r.label,
        `${fmtInt(Number(r.params.jobs))} × fib(${r.params.fibN})`,
        statusOf(r) ?? fmtMs(r.figures.durationMs),
        fmtMs(r.figures.p50Ms),
        fmtMs(r.figures.p99Ms),
        fmtMs(r.figures.maxMs),
        fmtInt(r.figures.ticks),
      ]),
      footnotes: ["delay: monitorEventLoopDelay interval minus its 1 ms resolution."],
    };
  },
};
