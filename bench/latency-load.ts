/**
 * How the latency scenario drives an engine: the idle series (one job at a
 * time) and one point of offered load (a steady rate for a fixed time, then
 * the backlog drained).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { LatencySubject } from "./latency-subjects.js";
import { summarize } from "./stats.js";

/** Reports how far a case is, for the live display. */
type Progress = (done: number, total: number, what: string) => void;

/** Unmeasured jobs before the idle series: threads started, code warm. */
export const WARMUP_JOBS = 50;
/**
 * Unmeasured load before the curve, at its lowest rate: the first seconds
 * under load run code the idle series never reached (batching, the pool's
 * queue) before it is optimised, and whichever point came first carried
 * that (p99 5.95 against 2.14 and 2.01 ms in the two after it at the same
 * rate, ours; 3.10 against 0.96 and 0.73 ms, Piscina's).
 */
export const WARMUP_LOAD_MS = 1_000;
/** A short pause after each load run, so one run's backlog and garbage do not start the next. */
export const SETTLE_MS = 200;
/**
 * True when a load point's backlog (the time from its last submit to its
 * last job done) says the engine did not keep up with the offered rate:
 * its figures then include a queue's wait.
 */
export function fellBehind(backlogMs: number, loadMs: number): boolean {
  return backlogMs > 100 + loadMs * 0.1;
}

/** Longest the backlog of one load point may take to drain after its offer ended. */
const DRAIN_LIMIT_MS = 30_000;

/** Runs one job at a time, the next once the previous was done. */
export async function idleSeries(
  s: LatencySubject,
  jobs: number,
  progress: Progress,
  total: number,
  warmup = WARMUP_JOBS,
) {
  const starts: number[] = [];
  const dones: number[] = [];
  for (let i = 0; i < warmup + jobs; i++) {
    // Let the pool and the event loop settle: "idle" means nothing else is in flight.
    await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    await new Promise<void>((resolve) =>
      s.submit((startedAt, doneAt) => {
        if (i >= warmup) {
          if (startedAt !== undefined) starts.push(startedAt - t0);
          dones.push(doneAt - t0);
        }
        resolve();
      }),
    );
    const failure = s.failure();
    if (failure !== undefined) throw failure;
    if (i % 50 === 0) progress(i, total, "idle jobs");
  }
  // summarize() sorts in place: the samples are every job's, in that order.
  const samples = dones.slice();
  return { start: summarize(starts), done: summarize(dones), samples };
}

/** Offers `rate` jobs/s for `ms`, paced by a 1 ms timer, then waits for the backlog to drain. */
export async function loadPoint(s: LatencySubject, rate: number, ms: number) {
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
