import { ErrorCode, jobError } from "../errors.js";
import {
  nextTick,
  parseScheduleSpec,
  type ScheduleSpec,
  validateScheduleId,
} from "./schedule-spec.js";
import { type ScheduleInfo, type ScheduleStore, toScheduleInfo } from "./schedule-store.js";

/**
 * The queue's schedule methods (DESIGN.md section 7), as plain functions
 * over a {@link ScheduleStore}, so each backend's queue forwards to them
 * instead of repeating the checks.
 */

/** What a queue that keeps schedules offers; `task.schedule` calls it. */
export interface ScheduleMethods {
  /** Creates or replaces schedule `id`, which enqueues `task(...args)` on every tick. */
  schedule(id: string, task: string, spec: ScheduleSpec, args: unknown[]): Promise<void>;
  /** Deletes a schedule; true if it existed. */
  unschedule(id: string): Promise<boolean>;
  /** Every schedule with its next run, ordered by id. */
  listSchedules(): Promise<ScheduleInfo[]>;
}

/**
 * Checks everything, then stores the schedule (nothing is stored when a
 * check fails). A schedule that exists with the same task and spec keeps its
 * next run, so calling this from every process at start-up is safe.
 */
export async function scheduleJob(
  store: ScheduleStore,
  id: unknown,
  task: string,
  spec: unknown,
  args: unknown[],
  now: number = Date.now(),
): Promise<void> {
  const sid = validateScheduleId(id);
  if (typeof task !== "string" || task.length === 0) {
    throw jobError(ErrorCode.UNKNOWN_TASK, "a schedule needs a task name");
  }
  const parsed = parseScheduleSpec(spec);
  if (!Array.isArray(args)) throw jobError(ErrorCode.INVALID_OPTION, "`args` must be an array");
  const bytes = args.length === 0 ? new Uint8Array(0) : store.encodeArgs(args);
  await store.upsert({ id: sid, task, ...parsed, args: bytes, nextRunAt: nextTick(parsed, now) });
}

/** Deletes a schedule; true if it existed. An invalid id cannot exist: false. */
export function unscheduleJob(store: ScheduleStore, id: unknown): Promise<boolean> {
  try {
    validateScheduleId(id);
  } catch {
    return Promise.resolve(false);
  }
  return store.remove(id as string);
}

/** `queue.listSchedules()`: `[{ id, task, cron?, everyMs?, tz?, nextRunAt: Date, ... }]`. */
export async function listSchedules(store: ScheduleStore): Promise<ScheduleInfo[]> {
  return (await store.list()).map(toScheduleInfo);
}

/** The queue's schedule methods, or a coded error naming what is missing. */
export function scheduleMethodsOf(queue: unknown): ScheduleMethods {
  const q = queue as Partial<ScheduleMethods> | null;
  if (q === null || typeof q !== "object" || typeof q.schedule !== "function") {
    throw jobError(ErrorCode.INVALID_OPTION, "this queue does not keep schedules");
  }
  return q as ScheduleMethods;
}
