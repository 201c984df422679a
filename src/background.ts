/**
 * rapidai/background: background jobs on a worker-thread pool, with an
 * in-memory queue and a Redis queue. This file is the package's one public
 * entry: everything public is exported here by name.
 */
import { registerBackend } from "./get-queue.js";
import { InMemoryQueue, type InMemoryQueueOptions } from "./memory/in-memory-queue.js";
import type { RedisQueueOptions } from "./redis/redis-options.js";
import { RedisQueue } from "./redis/redis-queue.js";

registerBackend("memory", (options) => new InMemoryQueue(options as InMemoryQueueOptions));
registerBackend("redis", (options) => new RedisQueue(options as RedisQueueOptions));

export type { Backoff, BackoffOptions } from "./backoff.js";
export { currentJob, type JobContext } from "./current-job.js";
export type { QueueLogger } from "./engine/queue-options.js";
export type { CronSpec, IntervalSpec, ScheduleSpec } from "./engine/schedule-spec.js";
export type { ScheduleInfo } from "./engine/schedule-store.js";
export {
  ErrorCode,
  type ErrorCodeValue,
  JobError,
  RapidAIException,
  UnrecoverableError,
} from "./errors.js";
export {
  type CancelledEvent,
  type CompletedEvent,
  type EnqueuedEvent,
  type FailedEvent,
  JOB_EVENTS,
  type JobEventName,
  type JobQueueEvents,
  type PauseEvent,
  type ProgressEvent,
  type QueueErrorEvent,
  type RetriedEvent,
  type RetryingEvent,
  type StartedEvent,
  type StatusEvent,
} from "./events.js";
export type { ExecutorOptions as PoolOptions } from "./executor/executor.js";
export { type BackendName, getQueue, resetDefaultQueue } from "./get-queue.js";
export {
  type BulkJob,
  type CleanOptions,
  type CloseOptions,
  type DedupeOptions,
  type EnqueueOptions,
  type JobCounts,
  JobQueue,
  type ListOptions,
  type TaskRef,
  type WaitOptions,
} from "./job-queue.js";
export { JobResult } from "./job-result.js";
export { isTerminal, JOB_STATUSES, JobStatus, parseJobStatus } from "./job-status.js";
export {
  InMemoryQueue,
  type InMemoryQueueOptions,
  type RetentionOptions,
} from "./memory/in-memory-queue.js";
export { move } from "./move.js";
export type { RedisNode } from "./redis/connection.js";
export type { RedisQueueOptions, RedisRetentionOptions } from "./redis/redis-options.js";
export { RedisQueue } from "./redis/redis-queue.js";
export { canTransition, TRANSITIONS } from "./state-machine.js";
export { type BackgroundOptions, background, type EnqueueHandle, type Task } from "./task.js";
export type { WorkerInfo } from "./worker-info.js";
