/**
 * The checks of the schedule-churn chaos test, kept apart from the run:
 * which ticks a schedule owed and which it fired, missed or doubled, and the
 * most starts of a task in any window of time.
 */

/** A worker process's life: from the moment it said it was ready to its kill (or the end). */
export interface Life {
  pid: number;
  readyAt: number;
  endedAt: number;
}

/**
 * Stretches of time in [from, to) when no worker process was up: only then
 * may a schedule miss ticks (a stretch of downtime fires once when a worker
 * comes back, for the first tick it owed, and skips the rest).
 */
export function downtime(lives: readonly Life[], from: number, to: number): [number, number][] {
  const ups = [...lives].sort((a, b) => a.readyAt - b.readyAt);
  const gaps: [number, number][] = [];
  let covered = from;
  for (const l of ups) {
    if (l.readyAt > covered) gaps.push([covered, Math.min(l.readyAt, to)]);
    covered = Math.max(covered, l.endedAt);
    if (covered >= to) break;
  }
  if (covered < to) gaps.push([covered, to]);
  return gaps.filter(([a, b]) => b > a);
}

/**
 * The most ticks a schedule may miss: in each stretch of downtime, every
 * tick it holds but the first (which fires when a worker is back).
 */
export function missBound(gaps: readonly [number, number][], ticks: readonly number[]): number {
  let bound = 0;
  for (const [a, b] of gaps) bound += Math.max(0, ticks.filter((t) => t >= a && t < b).length - 1);
  return bound;
}

export interface TickFigures {
  /** Ticks the schedule owed over the run (its grid from the first tick). */
  expected: number;
  /** Owed ticks whose job exists. */
  fired: number;
  /** Tick jobs enqueued or completed more than once, or run twice with no kill to excuse it. */
  doubled: string[];
  /** Owed ticks with no job. */
  missed: number[];
  /** Tick jobs off the schedule's grid. */
  offGrid: string[];
  /** Most ms from a tick to its job's creation. */
  maxLateMs: number;
}

/**
 * Classes the tick jobs `sched:<id>:<tick ms>` found (with their creation
 * time) against the grid `first + k * everyMs` for the owed ticks.
 */
export function classifyTicks(o: {
  scheduleId: string;
  first: number;
  everyMs: number;
  owed: number;
  jobs: ReadonlyMap<string, number>;
  enqueuedEvents: ReadonlyMap<string, number>;
  completedEvents: ReadonlyMap<string, number>;
  /** Tick job ids that started on two processes of which neither was killed. */
  rerunOnLive: readonly string[];
}): TickFigures {
  const prefix = `sched:${o.scheduleId}:`;
  const out: TickFigures = {
    expected: o.owed,
    fired: 0,
    doubled: [],
    missed: [],
    offGrid: [],
    maxLateMs: 0,
  };
  for (let k = 0; k < o.owed; k++) {
    const tick = o.first + k * o.everyMs;
    if (o.jobs.has(`${prefix}${tick}`)) out.fired++;
    else out.missed.push(tick);
  }
  for (const [id, createdAt] of o.jobs) {
    const tick = Number(id.slice(prefix.length));
    if (!id.startsWith(prefix) || (tick - o.first) % o.everyMs !== 0) out.offGrid.push(id);
    else out.maxLateMs = Math.max(out.maxLateMs, createdAt - tick);
    if ((o.enqueuedEvents.get(id) ?? 0) > 1 || (o.completedEvents.get(id) ?? 0) > 1) {
      out.doubled.push(id);
    }
  }
  for (const id of o.rerunOnLive) if (!out.doubled.includes(id)) out.doubled.push(id);
  return out;
}

/** The most of `times` (ms) in any window [t, t + windowMs). */
export function mostInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let most = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= windowMs) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}
