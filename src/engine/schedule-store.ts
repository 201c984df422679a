import type { ScheduleSpec } from "./schedule-spec.js";

/**
 * What a backend keeps of one schedule. The store encodes the arguments with
 * its own job codec (v8 in memory, msgpack in Redis), so a firing can hand
 * them to the same store's enqueue without decoding them first.
 */
export interface ScheduleRecord {
  id: string;
  /** The task each firing enqueues. */
  task: string;
  cron?: string;
  /** Only with `cron`; undefined means UTC. */
  tz?: string;
  everyMs?: number;
  /** The arguments, encoded by the store ({@link ScheduleStore.encodeArgs}); empty for none. */
  args: Uint8Array;
  /** ms of the next tick. */
  nextRunAt: number;
  /** The job of the last firing that was enqueued. */
  lastJobId?: string;
  /** ms of that firing's tick. */
  lastRunAt?: number;
}

/**
 * One tick of one schedule, claimed by one process. Its `jobId` is
 * `sched:<schedule id>:<fireAt>`, the same wherever it is computed, so even
 * a firing handed out twice (its first claimer died before {@link
 * ScheduleStore.ack}) enqueues one job.
 */
export interface Firing {
  /** The schedule as it was when claimed; `nextRunAt` already advanced. */
  schedule: ScheduleRecord;
  /** ms of the tick this firing stands for. */
  fireAt: number;
  jobId: string;
}

/**
 * The backend side of schedules. Implemented by the memory table
 * (src/memory/schedule-table.ts) and Redis (src/redis/schedule-store.ts);
 * the {@link Scheduler} drives either through this contract alone.
 */
export interface ScheduleStore {
  /** Encodes a firing's arguments as the store's jobs hold them. Throws the codec's coded errors. */
  encodeArgs(args: unknown[]): Uint8Array;
  /** The reverse of {@link encodeArgs}. */
  decodeArgs(bytes: Uint8Array): unknown[];
  /**
   * Creates or replaces a schedule. Replacing one with the same task and
   * spec keeps its `nextRunAt` (and last job) and only takes the new
   * arguments, so every process may call `task.schedule` at start-up without
   * moving or repeating a tick; a changed spec takes `s.nextRunAt`.
   */
  upsert(s: ScheduleRecord): Promise<void>;
  /** Deletes a schedule; true if it existed. Firings claimed but not enqueued yet are dropped. */
  remove(id: string): Promise<boolean>;
  /** Every schedule, ordered by id. */
  list(): Promise<ScheduleRecord[]>;
  /** One schedule, or undefined. */
  get(id: string): Promise<ScheduleRecord | undefined>;
  /**
   * Atomically, for up to `limit` schedules whose `nextRunAt <= now`:
   * advances `nextRunAt` to the first tick strictly after `now` (so a stretch
   * of downtime fires once) and returns one firing for the tick that was
   * due. However many processes call it at once, each tick is returned to
   * one of them. A claimed firing stays "in flight" until {@link ack}; one
   * left in flight for the store's reclaim time (its claimer died between
   * claim and enqueue) is returned again, to one caller.
   */
  claimDue(now: number, limit: number): Promise<Firing[]>;
  /** The firing's job is enqueued: it leaves the in-flight set and becomes the schedule's last job. */
  ack(firing: Firing): Promise<void>;
  /** ms when {@link claimDue} next has work (a tick or a reclaim), or undefined with no schedule. */
  nextDueAt(): Promise<number | undefined>;
}

/** One entry of `queue.listSchedules()` (DESIGN.md section 7). */
export interface ScheduleInfo {
  id: string;
  task: string;
  cron?: string;
  tz?: string;
  everyMs?: number;
  nextRunAt: Date;
  /** The job of the last firing, once there was one. */
  lastJobId?: string;
  lastRunAt?: Date;
}

/** The public view of a stored schedule. */
export function toScheduleInfo(r: ScheduleRecord): ScheduleInfo {
  const out: ScheduleInfo = { id: r.id, task: r.task, nextRunAt: new Date(r.nextRunAt) };
  if (r.cron !== undefined) out.cron = r.cron;
  if (r.tz !== undefined) out.tz = r.tz;
  if (r.everyMs !== undefined) out.everyMs = r.everyMs;
  if (r.lastJobId !== undefined) out.lastJobId = r.lastJobId;
  if (r.lastRunAt !== undefined) out.lastRunAt = new Date(r.lastRunAt);
  return out;
}

/** The spec part of a record. */
export function specOf(r: ScheduleRecord): ScheduleSpec {
  if (r.everyMs !== undefined) return { everyMs: r.everyMs };
  return r.tz === undefined ? { cron: r.cron ?? "" } : { cron: r.cron ?? "", tz: r.tz };
}

/** True when two records fire the same task on the same ticks (arguments aside). */
export function sameTicks(a: ScheduleRecord, b: ScheduleRecord): boolean {
  return a.task === b.task && a.cron === b.cron && a.tz === b.tz && a.everyMs === b.everyMs;
}
