import type { SerializedError } from "../errors.js";
import type { Attempt } from "../executor/attempt.js";
import type { JobStatus } from "../job-status.js";
import type { TaskDefinition } from "../task-definition.js";

/** `ref` of a job waiting in the delay heap. */
export const DELAYED: unique symbol = Symbol("delayed");

/**
 * One job of the in-memory queue. Kept small on purpose (a pending job must
 * cost at most ~300 bytes beyond its arguments): times are ms offsets from
 * the queue's epoch, which stay small integers, and the fields for a running
 * attempt, a delay timer, a result and an error share slots.
 */
export class MemoryJob {
  status: JobStatus = "pending";
  attempts = 0;
  /** ms since the queue's epoch; -1 until set. */
  startedAt = -1;
  completedAt = -1;
  /** The running attempt, or DELAYED while a delay or retry backoff holds it back. */
  ref: Attempt | typeof DELAYED | undefined = undefined;
  /** The result once completed; the last error while retrying or once failed. */
  value: unknown = undefined;
  progress: unknown = undefined;

  constructor(
    readonly id: string,
    readonly def: TaskDefinition,
    /** Structured-clone bytes of the arguments; undefined for none. */
    readonly args: Uint8Array | undefined,
    readonly maxRetries: number,
    readonly priority: number,
    readonly createdAt: number,
  ) {}

  get error(): SerializedError | undefined {
    return this.status === "completed" ? undefined : (this.value as SerializedError | undefined);
  }
}
