import type { JobStatus } from "./job-status.js";

/** Every transition, including a job's creation (`from: null`). */
export interface StatusEvent {
  jobId: string;
  task: string;
  from: JobStatus | null;
  to: JobStatus;
  /** Attempts started so far. */
  attempts: number;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface EnqueuedEvent {
  jobId: string;
  task: string;
  /** Milliseconds until the job becomes runnable (0 when it is ready now). */
  delayMs: number;
}

export interface StartedEvent {
  jobId: string;
  task: string;
  attempt: number;
}

export interface CompletedEvent {
  jobId: string;
  task: string;
  attempt: number;
  result: unknown;
  /** Run time of the successful attempt, in ms. */
  durationMs: number;
}

export interface FailedEvent {
  jobId: string;
  task: string;
  attempt: number;
  error: string;
  code?: string;
  durationMs?: number;
}

export interface RetryingEvent {
  jobId: string;
  task: string;
  /** The attempt that failed. */
  attempt: number;
  error: string;
  code?: string;
  /** Milliseconds until the next attempt may start. */
  delayMs: number;
}

export interface CancelledEvent {
  jobId: string;
  task: string;
  /** Attempts started before the cancel (0 when it never ran). */
  attempts: number;
}

export interface ProgressEvent {
  jobId: string;
  task: string;
  progress: unknown;
}

/** A failed or cancelled job was sent back to pending by `retry()`. */
export interface RetriedEvent {
  jobId: string;
  task: string;
  /** The state it left. */
  from: JobStatus | null;
  /** Attempts so far (they keep counting across retries). */
  attempts: number;
}

/** The queue was paused or resumed (by this process or, with Redis, another). */
export interface PauseEvent {
  /** ms since the epoch. */
  at: number;
}

/** Something went wrong outside any one job (a broken task module, a lost connection). */
export interface QueueErrorEvent {
  error: Error;
}

/** The events a queue emits, one payload object each. */
export interface JobQueueEvents {
  status: [StatusEvent];
  enqueued: [EnqueuedEvent];
  started: [StartedEvent];
  completed: [CompletedEvent];
  failed: [FailedEvent];
  retrying: [RetryingEvent];
  cancelled: [CancelledEvent];
  progress: [ProgressEvent];
  retried: [RetriedEvent];
  paused: [PauseEvent];
  resumed: [PauseEvent];
  error: [QueueErrorEvent];
}

/** The names of the events about jobs (every event but `error`). */
export const JOB_EVENTS = Object.freeze([
  "status",
  "enqueued",
  "started",
  "completed",
  "failed",
  "retrying",
  "cancelled",
  "progress",
  "retried",
  "paused",
  "resumed",
] as const) satisfies readonly (keyof JobQueueEvents)[];

/** One of {@link JOB_EVENTS}. */
export type JobEventName = (typeof JOB_EVENTS)[number];
