import type { SerializedError } from "../errors.js";
import type { JobStatus } from "../job-status.js";
import type { TaskDefinition } from "../task-definition.js";

interface RareFields {
  retryBase: number;
  timeoutMs: number | undefined;
  dependsOn: string[] | undefined;
  notBefore: number;
  progress: unknown;
  removed: boolean;
  endedPending: boolean;
}

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
  /** The result once completed; the last error while retrying or once failed. */
  value: unknown = undefined;
  /**
   * The fields few jobs use (a retry's base, its own timeout, dependencies,
   * progress), in one object made on first use: a field on every job costs
   * 8 bytes each whether set or not.
   */
  #rare: RareFields | undefined = undefined;

  constructor(
    readonly id: string,
    readonly def: TaskDefinition,
    /** Structured-clone bytes of the arguments; undefined for none. */
    readonly args: Uint8Array | undefined,
    readonly maxRetries: number,
    readonly priority: number,
    readonly createdAt: number,
  ) {}

  /** Attempts made before its last `retry()`: they do not count against `maxRetries`. */
  get retryBase(): number {
    return this.#rare?.retryBase ?? 0;
  }
  set retryBase(n: number) {
    this.#more().retryBase = n;
  }

  /** Its own attempt timeout, overriding the task's. */
  get timeoutMs(): number | undefined {
    return this.#rare?.timeoutMs;
  }
  set timeoutMs(ms: number | undefined) {
    this.#more().timeoutMs = ms;
  }

  /** The jobs it waits for (`dependsOn`). */
  get dependsOn(): string[] | undefined {
    return this.#rare?.dependsOn;
  }
  set dependsOn(ids: string[] | undefined) {
    this.#more().dependsOn = ids;
  }

  /** While it waits for dependencies: the end of its delay (ms since the epoch), else 0. */
  get notBefore(): number {
    return this.#rare?.notBefore ?? 0;
  }
  set notBefore(at: number) {
    this.#more().notBefore = at;
  }

  /** Deleted by `remove()` while it was pending: its ready-queue entry is stale. */
  get removed(): boolean {
    return this.#rare?.removed ?? false;
  }
  set removed(yes: boolean) {
    this.#more().removed = yes;
  }

  /** It reached its end while pending (cancelled, or failed by a dependency): it has no duration. */
  get endedPending(): boolean {
    return this.#rare?.endedPending ?? false;
  }
  set endedPending(yes: boolean) {
    if (yes || this.#rare !== undefined) this.#more().endedPending = yes;
  }

  /** The last `currentJob().progress()` value. */
  get progress(): unknown {
    return this.#rare?.progress;
  }
  set progress(value: unknown) {
    this.#more().progress = value;
  }

  #more(): RareFields {
    this.#rare ??= {
      retryBase: 0,
      timeoutMs: undefined,
      dependsOn: undefined,
      notBefore: 0,
      progress: undefined,
      removed: false,
      endedPending: false,
    };
    return this.#rare;
  }

  get delayed(): boolean {
    return this.delayAt >= 0;
  }

  get error(): SerializedError | undefined {
    return this.status === "completed" ? undefined : (this.value as SerializedError | undefined);
  }
}
