import type { Piscina } from "piscina";
import type { TimerQueue } from "../timer-queue.js";
import type { Attempt } from "./attempt.js";
import { type AbortMessage, CancelFlag } from "./protocol.js";
import type { AttemptSlots } from "./slots.js";
import type { ThreadChannels } from "./thread-channels.js";

/** Timeouts and cancels of attempts: the stop flag, the abort notice, the grace period, then terminate. */
export class Stopper {
  readonly #slots: AttemptSlots;
  readonly #channels: ThreadChannels;
  readonly #timers: TimerQueue;
  readonly #pool: () => Piscina | undefined;
  readonly cancelGraceMs: number;

  constructor(
    slots: AttemptSlots,
    channels: ThreadChannels,
    timers: TimerQueue,
    pool: () => Piscina | undefined,
    cancelGraceMs: number,
  ) {
    this.#slots = slots;
    this.#channels = channels;
    this.#timers = timers;
    this.#pool = pool;
    this.cancelGraceMs = cancelGraceMs;
  }

  /**
   * Stops the attempt with `ERR_JOB_TIMEOUT` once it has run `timeoutMs`.
   * Its time runs from when a thread takes it up, not from dispatch: a
   * thread still starting (a fresh pool, a replaced thread) or busy with the
   * job before it must not use up the job's time. Until a thread has it, look
   * again in steps of a tenth of the timeout, so the deadline may be late by
   * one step but never early. `run` arms it from `RunSpec.timeoutMs`; a
   * second call for the same attempt does nothing.
   */
  watchTimeout(attempt: Attempt, timeoutMs: number): void {
    if (attempt.timeoutArmed || !this.#slots.holds(attempt)) return;
    attempt.timeoutArmed = true;
    const timers = this.#timers;
    const step = Math.min(50, Math.max(1, Math.ceil(timeoutMs / 10)));
    const check = () => {
      if (!this.#slots.holds(attempt)) return;
      attempt.timeoutEntry =
        this.#slots.owner(attempt.slot) !== 0
          ? timers.add(Date.now() + timeoutMs, () => this.stop(attempt, CancelFlag.TIMED_OUT))
          : timers.add(Date.now() + step, check);
    };
    attempt.timeoutEntry = timers.add(Date.now() + step, check);
  }

  /**
   * Asks a running attempt to stop: its signal aborts, `throwIfCancelled()`
   * starts throwing, and after the grace period its thread is terminated.
   */
  stop(attempt: Attempt, why: typeof CancelFlag.CANCELLED | typeof CancelFlag.TIMED_OUT): void {
    if (!this.#slots.holds(attempt)) return;
    if (attempt.stop !== CancelFlag.NONE) {
      // Cancelled while already stopping after a timeout: it must end
      // cancelled, not go back for a retry. The grace period runs on.
      if (why === CancelFlag.CANCELLED && attempt.stop === CancelFlag.TIMED_OUT) {
        attempt.stop = why;
        this.#slots.flag(attempt.slot, why);
      }
      return;
    }
    attempt.stop = why;
    this.#slots.flag(attempt.slot, why);
    const message: AbortMessage = {
      kind: "abort",
      slot: attempt.slot,
      jobId: attempt.jobId,
      attempt: attempt.number,
      reason: why,
    };
    this.#channels.abort(message);
    attempt.graceEntry = this.#timers.add(Date.now() + this.cancelGraceMs, () => {
      attempt.graceEntry = undefined;
      this.#terminate(attempt);
    });
  }

  /** Stops every attempt at once, with no grace: used by `close()` after its timeout. */
  terminateAll(): void {
    for (const attempt of this.#slots) {
      if (attempt.stop === CancelFlag.NONE) {
        attempt.stop = CancelFlag.CANCELLED;
        this.#slots.flag(attempt.slot, CancelFlag.CANCELLED);
      }
      this.#terminate(attempt);
    }
  }

  /**
   * Terminates the thread that runs the attempt; the pool replaces it. A job
   * still waiting in a thread's queue needs nothing: it sees its stop flag
   * when it reaches the front and ends without running.
   */
  #terminate(attempt: Attempt): void {
    if (!this.#slots.holds(attempt)) return;
    const threadId = Math.abs(this.#slots.owner(attempt.slot));
    const pool = this.#pool();
    if (threadId === 0 || pool === undefined) return;
    for (const worker of pool.threads) {
      if (worker.threadId === threadId) void worker.terminate();
    }
  }
}
