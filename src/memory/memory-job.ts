import type { SerializedError } from "../errors.js";
import type { JobStatus } from "../job-status.js";
import type { TaskDefinition } from "../task-definition.js";

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
  /** While a delay or retry backoff holds it back: when it may run (see DelayedJobs); else -1. */
  delayAt = -1;
  /** It reached its end while pending (cancelled, or failed by a dependency): it has no duration. */
  endedPending = false;
  /** Attempts made before its last `retry()`: they do not count against `maxRetries`. */
  retryBase = 0;
  /** Its own attempt timeout, overriding the task's. */
  timeoutMs: number | undefined = undefined;
  /** The jobs it waits for (`dependsOn`). */
  dependsOn: string[] | undefined = undefined;
  /** While it waits for dependencies: the end of its delay (ms since the epoch), else 0. */
  notBefore = 0;
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

  get delayed(): boolean {
    return this.delayAt >= 0;
  }

  get error(): SerializedError | undefined {
    return this.status === "completed" ? undefined : (this.value as SerializedError | undefined);
  }
}
