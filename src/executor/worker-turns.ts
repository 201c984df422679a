import { getHeapStatistics } from "node:v8";
import { threadId } from "node:worker_threads";
import type { RetireMessage } from "./protocol.js";
import { data, port } from "./worker-env.js";

// At most `perThread` jobs run on this thread at once. The pool may hand the
// thread a few more (prefetched, so they start without waiting a round trip to
// the main thread); they wait here, not yet owning their slots, so a crash of the
// running job cannot be blamed on it.
let runningCount = 0;
const turns: (() => void)[] = [];

export function acquire(): Promise<void> | undefined {
  if (runningCount < data.perThread) {
    runningCount++;
    return undefined;
  }
  return new Promise<void>((resolve) => turns.push(resolve));
}

export function release(answered: boolean): void {
  const next = turns.shift();
  // The next job starts after this one's answer is posted, not before.
  if (next === undefined) runningCount--;
  else if (answered) next();
  else setImmediate(next);
  if (next === undefined) sayRetiredWhenIdle();
}

// ---- retiring: replaced between jobs, never under one ----
const retiringCells = new Int32Array(data.retiring);
let jobsRun = 0;
let retiring = false;
let saidRetired = false;

/**
 * This thread runs no new task from now on: its threadId in a free cell of
 * the shared table keeps the load balancer off it at once (a message could
 * arrive after the pool handed it the next task). Jobs already queued here
 * go back unstarted (runJob); once none is left, the main thread is told to
 * terminate it.
 */
export function retire(): void {
  if (retiring) return;
  retiring = true;
  for (let i = 0; i < retiringCells.length; i++) {
    if (Atomics.compareExchange(retiringCells, i, 0, threadId) === 0) break;
  }
  sayRetiredWhenIdle();
}

/** True once this thread retired: it starts no job from now on (see runJob). */
export function retired(): boolean {
  return retiring;
}

function sayRetiredWhenIdle(): void {
  if (!retiring || saidRetired || runningCount > 0 || turns.length > 0) return;
  saidRetired = true;
  port.postMessage({ kind: "retire", threadId } satisfies RetireMessage);
}

/** After each job: has this thread run its share, or is its heap over the limit? */
export function checkLimits(): void {
  jobsRun++;
  if (data.maxJobsPerThread > 0 && jobsRun >= data.maxJobsPerThread) retire();
  else if (
    data.maxThreadHeapMb > 0 &&
    getHeapStatistics().used_heap_size > data.maxThreadHeapMb * 1024 * 1024
  )
    retire();
}
