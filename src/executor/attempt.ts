import type { SerializedError } from "../errors.js";
import type { TimerEntry } from "../timer-queue.js";
import { CancelFlag } from "./protocol.js";

/** How an attempt ended, as the executor saw it. */
export type AttemptOutcome =
  | { kind: "ok"; value: unknown }
  /** The job threw; `permanent` errors are never retried (unknown task, broken module, bad payload). */
  | { kind: "error"; error: SerializedError; permanent: boolean }
  | { kind: "cancelled" }
  | { kind: "timeout" }
  /** The thread died under the job: exit, out of memory, a crash. */
  | { kind: "crashed"; error: SerializedError };

/**
 * One running attempt. It doubles as the abort signal piscina watches (piscina
 * accepts any object with `aborted` and `addEventListener`), so a job costs no
 * AbortController on the main thread: the listener is only called when a
 * stuck job's thread must be terminated.
 */
export class Attempt {
  /** Read by piscina: true once the thread must be terminated. */
  aborted = false;
  reason: unknown = undefined;
  #listener: (() => void) | undefined = undefined;
  /** Why the job was asked to stop (cancel or timeout), or NONE. */
  stop: CancelFlag = CancelFlag.NONE;
  /** Deadline entries in the shared timer queue. */
  timeoutEntry: TimerEntry | undefined = undefined;
  graceEntry: TimerEntry | undefined = undefined;
  /** `performance.now()` at dispatch. */
  readonly startedAt: number;

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

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(_type: "abort", _listener: () => void): void {
    this.#listener = undefined;
  }

  /** Terminates the thread running this attempt (piscina's abort). */
  terminate(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#listener?.();
  }
}
