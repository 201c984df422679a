import type { Attempt } from "../executor/attempt.js";
import type { AttemptTrace } from "../tracing.js";
import type { ClaimedJob, Refusal } from "./store.js";

/** One claimed job while a runner holds it. */
export interface Held {
  readonly job: ClaimedJob;
  state: "waiting" | "running" | "ending";
  run: Attempt | undefined;
  /** The claim was lost (why): whatever this attempt answers is dropped. */
  lost: Refusal | undefined;
  /** Handed back at close: its outcome is dropped. */
  handedBack: boolean;
  /** The attempt's span (OpenTelemetry; a no-op without an SDK). */
  span: AttemptTrace | undefined;
}

/**
 * The claims a runner holds, by job id, from the claim until the ending is
 * written (or the claim is lost or handed back), and the line of those not
 * started yet, in the order they were claimed.
 */
export class HeldJobs {
  readonly #byId = new Map<string, Held>();
  #line: Held[] = [];

  /** Holds a new claim, last in the line. */
  add(job: ClaimedJob): Held {
    const h: Held = {
      job,
      state: "waiting",
      run: undefined,
      lost: undefined,
      handedBack: false,
      span: undefined,
    };
    this.#byId.set(job.id, h);
    this.#line.push(h);
    return h;
  }

  get(jobId: string): Held | undefined {
    return this.#byId.get(jobId);
  }

  has(jobId: string): boolean {
    return this.#byId.has(jobId);
  }

  delete(jobId: string): void {
    this.#byId.delete(jobId);
  }

  /** Forgets the claim, unless a newer claim of its job is held now. */
  forget(job: ClaimedJob): void {
    if (this.#byId.get(job.id)?.job === job) this.#byId.delete(job.id);
  }

  values(): IterableIterator<Held> {
    return this.#byId.values();
  }

  /** Claims waiting to start. */
  get waiting(): number {
    return this.#line.length;
  }

  /** The first claim in the line, out of it (still held). */
  next(): Held | undefined {
    return this.#line.shift();
  }

  /** Every claim in the line, out of it (still held). */
  takeLine(): Held[] {
    const line = this.#line;
    this.#line = [];
    return line;
  }

  /** Out of the line: it will not start here (cancelled or lost while it waited). */
  unwait(h: Held): void {
    const i = this.#line.indexOf(h);
    if (i >= 0) this.#line.splice(i, 1);
  }
}
