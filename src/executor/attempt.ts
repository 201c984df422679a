import { performance } from "node:perf_hooks";
import type { SerializedError } from "../errors.js";
import type { TimerEntry } from "../timer-queue.js";
import { CancelFlag } from "./protocol.js";
import type { MovedArgs } from "./thread-args.js";

/** How an attempt ended, as the executor saw it. */
export type AttemptOutcome =
  | { kind: "ok"; value: unknown }
  /** The job threw; `permanent` errors are never retried (unknown task, broken module, bad payload). */
  | { kind: "error"; error: SerializedError; permanent: boolean }
  | { kind: "cancelled" }
  | { kind: "timeout" }
  /** The thread died under the job: exit, out of memory, a crash. */
  | { kind: "crashed"; error: SerializedError }
  /**
   * The job was waiting in a thread's queue when that thread died because of
   * another job: it never started, so the attempt does not count.
   */
  | { kind: "not-started" };

/** One attempt handed to the pool. */
export class Attempt {
  /** Why the job was asked to stop (cancel or timeout), or NONE. */
  stop: CancelFlag = CancelFlag.NONE;
  /** Deadline entries in the shared timer queue. */
  timeoutEntry: TimerEntry | undefined = undefined;
  graceEntry: TimerEntry | undefined = undefined;
  /** A timeout is armed (once: `run` and `watchTimeout` may both ask). */
  timeoutArmed = false;
  /** Its task is known to take under the prefetch threshold. */
  short = false;
  /** The argument buffers that moved to its thread, when it has any (see thread-args.ts). */
  moved: MovedArgs | undefined = undefined;
  /** `performance.now()` at dispatch. */
  readonly startedAt: number;
  /** The job's attempt number (1 for the first). */
  number = 0;
  /** How long it ran on its thread, when the thread said (see EngineWorkerData.ran). */
  ranMs: number | undefined = undefined;

  constructor(
    readonly jobId: string,
    readonly task: string,
    readonly moduleUrl: string,
    readonly slot: number,
    readonly done: (outcome: AttemptOutcome, attempt: Attempt) => void,
    now: number,
  ) {
    this.startedAt = now;
  }

  /**
   * How long the attempt took: as its thread measured it when known, else
   * from dispatch (which then includes any wait in the thread's queue).
   */
  elapsedMs(now = performance.now()): number {
    return this.ranMs ?? now - this.startedAt;
  }
}
