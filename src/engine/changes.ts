import type { EventEmitter } from "eventemitter3";
import type { JobQueueEvents, StatusEvent } from "../events.js";

/**
 * One change a store applied, as facts: what the events of that change are
 * built from (see {@link emitChange}). The in-memory store reports each
 * change it applies; the Redis store decodes the records its scripts
 * publish into the same shape, so both backends emit the same events with
 * the same fields.
 */
export interface Change extends StatusEvent {
  kind: ChangeKind;
  /** enqueued: until it may run; retrying: until the next attempt. */
  delayMs?: number;
  /** completed: the result (already decoded). */
  result?: unknown;
  /** failed, retrying: the error message and its code. */
  error?: string;
  code?: string;
  /** The attempt's run time, when it ran. */
  durationMs?: number;
}

export type ChangeKind =
  | "enqueued"
  | "started"
  | "completed"
  | "failed"
  | "retrying"
  | "cancelled"
  /** Back to pending without counting the attempt (handed back, never started). */
  | "requeued"
  /** failed or cancelled → pending by `retry()`. */
  | "retried";

type Emitter = EventEmitter<JobQueueEvents>;

/** Emits the events of one change: `status`, then the event of its kind. */
export function emitChange(emitter: Emitter, c: Change): void {
  if (emitter.listenerCount("status") > 0) {
    emitter.emit("status", {
      jobId: c.jobId,
      task: c.task,
      from: c.from,
      to: c.to,
      attempts: c.attempts,
      at: c.at,
    });
  }
  const code = c.code === undefined || c.code === "" ? {} : { code: c.code };
  const duration = c.durationMs === undefined ? {} : { durationMs: c.durationMs };
  switch (c.kind) {
    case "enqueued":
      if (emitter.listenerCount("enqueued") > 0)
        emitter.emit("enqueued", { jobId: c.jobId, task: c.task, delayMs: c.delayMs ?? 0 });
      break;
    case "started":
      if (emitter.listenerCount("started") > 0)
        emitter.emit("started", { jobId: c.jobId, task: c.task, attempt: c.attempts });
      break;
    case "completed":
      if (emitter.listenerCount("completed") > 0) {
        emitter.emit("completed", {
          jobId: c.jobId,
          task: c.task,
          attempt: c.attempts,
          result: c.result,
          durationMs: c.durationMs ?? 0,
        });
      }
      break;
    case "failed":
      if (emitter.listenerCount("failed") > 0) {
        emitter.emit("failed", {
          jobId: c.jobId,
          task: c.task,
          attempt: c.attempts,
          error: c.error ?? "",
          ...code,
          ...duration,
        });
      }
      break;
    case "retrying":
      if (emitter.listenerCount("retrying") > 0) {
        emitter.emit("retrying", {
          jobId: c.jobId,
          task: c.task,
          attempt: c.attempts,
          error: c.error ?? "",
          ...code,
          delayMs: c.delayMs ?? 0,
        });
      }
      break;
    case "cancelled":
      if (emitter.listenerCount("cancelled") > 0)
        emitter.emit("cancelled", { jobId: c.jobId, task: c.task, attempts: c.attempts });
      break;
    case "retried":
      if (emitter.listenerCount("retried") > 0)
        emitter.emit("retried", {
          jobId: c.jobId,
          task: c.task,
          from: c.from,
          attempts: c.attempts,
        });
      break;
    case "requeued":
      break;
  }
}

/** True for a change that ends a job (what `waitFor` waits for). */
export function isFinal(c: Change): boolean {
  return c.to === "completed" || c.to === "failed" || c.to === "cancelled";
}
