import type { JobQueue } from "../job-queue.js";
import type { JobStatus } from "../job-status.js";

/** One schedule as `listSchedules()` reports it. */
export interface ScheduleInfo {
  id: string;
  task: string;
  cron?: string;
  everyMs?: number;
  tz?: string;
  nextRunAt: Date;
}

/** Options of `clean()`. */
export interface CleanOptions {
  status: JobStatus;
  olderThanMs?: number;
  limit?: number;
}

/** The operating methods of a queue (DESIGN.md sections 6 and 7) the service and CLI call. */
export interface OperableQueue {
  retry(jobId: string): Promise<boolean>;
  promote(jobId: string): Promise<boolean>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<boolean>;
  remove(jobId: string): Promise<boolean>;
  clean(options: CleanOptions): Promise<number>;
  getLogs(jobId: string): Promise<string[] | undefined>;
  unschedule(id: string): Promise<boolean>;
  listSchedules(): Promise<ScheduleInfo[]>;
}

const METHODS = [
  "retry",
  "promote",
  "pause",
  "resume",
  "isPaused",
  "remove",
  "clean",
  "getLogs",
  "unschedule",
  "listSchedules",
] as const;

/**
 * The queue with its operating methods, or undefined when this build of the
 * queue lacks one of them (the routes then answer 501 instead of a 500).
 */
export function operable(queue: JobQueue): (JobQueue & OperableQueue) | undefined {
  const q = queue as unknown as Record<string, unknown>;
  return METHODS.every((m) => typeof q[m] === "function")
    ? (queue as JobQueue & OperableQueue)
    : undefined;
}

/** What each job action needs, for the message of a refusal. */
const NEEDS = {
  retry: "a failed or cancelled job can be retried",
  promote: "a delayed pending job can be promoted",
  remove: "a job that is not running can be removed",
  cancel: "a pending or running job can be cancelled",
} as const;

/** A job action on the API and the command line. */
export type JobAction = keyof typeof NEEDS;

/** Why `action` did nothing to a job in `status`; the same words on the API and the CLI. */
export function refusalMessage(action: JobAction, status: JobStatus): string {
  return `Cannot ${action} a ${status} job: only ${NEEDS[action]}`;
}
