import { performance } from "node:perf_hooks";
import type { Attempt } from "./attempt.js";
import { CancelFlag } from "./protocol.js";

/**
 * The attempts handed to the pool, one per slot, and the two tables in
 * shared memory that threads read and write by slot: cancel flags, and the
 * owner (the threadId that took the attempt up, negative while it imports
 * the task's module). Slots belong to attempts, not threads, so the tables
 * stay right as the pool grows and shrinks.
 */
export class AttemptSlots {
  readonly flagsBuffer: SharedArrayBuffer;
  readonly ownersBuffer: SharedArrayBuffer;
  readonly ranBuffer: SharedArrayBuffer;
  readonly #flags: Int32Array;
  readonly #owners: Int32Array;
  readonly #ran: Float64Array;
  readonly #attempts: (Attempt | undefined)[];
  readonly #free: number[];

  constructor(slots: number) {
    this.flagsBuffer = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
    this.#flags = new Int32Array(this.flagsBuffer);
    this.ownersBuffer = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
    this.#owners = new Int32Array(this.ownersBuffer);
    this.ranBuffer = new SharedArrayBuffer(slots * Float64Array.BYTES_PER_ELEMENT);
    this.#ran = new Float64Array(this.ranBuffer).fill(-1);
    this.#attempts = new Array(slots).fill(undefined);
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  get size(): number {
    return this.#attempts.length;
  }

  /** Attempts holding a slot now. */
  get active(): number {
    return this.#attempts.length - this.#free.length;
  }

  /** A free slot (the caller checked there is one), to fill with {@link hold}. */
  take(): number {
    return this.#free.pop()!;
  }

  hold(attempt: Attempt): void {
    this.#attempts[attempt.slot] = attempt;
  }

  get(slot: number): Attempt | undefined {
    return this.#attempts[slot];
  }

  /** True while the attempt holds its slot (it has not ended). */
  holds(attempt: Attempt): boolean {
    return this.#attempts[attempt.slot] === attempt;
  }

  /** The attempt of an answer, if that attempt still holds the slot. */
  of(slot: number, jobId: string): Attempt | undefined {
    const attempt = this.#attempts[slot];
    return attempt !== undefined && attempt.jobId === jobId ? attempt : undefined;
  }

  /** The threadId that took the slot's attempt up: 0 none yet, negative while importing. */
  owner(slot: number): number {
    return Atomics.load(this.#owners, slot);
  }

  flag(slot: number, why: CancelFlag): void {
    Atomics.store(this.#flags, slot, why);
  }

  /**
   * Frees the attempt's slot; returns the owner it had (see decideOutcome).
   * The run time its thread wrote, if it wrote one, goes on the attempt.
   */
  release(attempt: Attempt): number {
    const slot = attempt.slot;
    this.#attempts[slot] = undefined;
    const ranMs = this.#ran[slot]!;
    if (ranMs >= 0) attempt.ranMs = ranMs;
    this.#ran[slot] = -1;
    const owner = Atomics.load(this.#owners, slot);
    Atomics.store(this.#owners, slot, 0);
    Atomics.store(this.#flags, slot, CancelFlag.NONE);
    this.#free.push(slot);
    return owner;
  }

  *[Symbol.iterator](): IterableIterator<Attempt> {
    for (const attempt of this.#attempts) if (attempt !== undefined) yield attempt;
  }

  /**
   * True while every attempt held is of a task known to be short and none a
   * thread has taken up has run longer than `shortMs` (one still queued in
   * a thread, with no owner yet, waited: it did not run).
   */
  allShort(shortMs: number): boolean {
    const now = performance.now();
    for (const attempt of this.#attempts) {
      if (attempt === undefined) continue;
      if (!attempt.short) return false;
      if (now - attempt.startedAt > shortMs && Atomics.load(this.#owners, attempt.slot) !== 0)
        return false;
    }
    return true;
  }
}
