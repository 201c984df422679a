import type { Ending, JobStore, Refusal } from "./store.js";

export interface WriteBackHooks {
  /**
   * How long to hold endings to write more in one call (0: at once). Asked
   * at every ending, so an ending that leaves nothing else to wait for (no
   * other job running or claimed) writes what is held at once.
   */
  waitMs(pending: number): number;
  /** Endings written: per ending whether the store applied it (true) or why not. */
  written(endings: readonly Ending[], applied: readonly (boolean | Refusal)[]): void;
}

/** What a log line says happened to an attempt whose claim was refused or lost, by why. */
export function refusalText(why: false | Refusal | undefined): string {
  switch (why) {
    case "gone":
      return "the job no longer exists (deleted, or Redis restarted without its data)";
    case "corrupt":
      return "its key in Redis is not a job record any more (WRONGTYPE: something else wrote it); its lease was dropped";
    default:
      return "another attempt took the job over (its lease had expired)";
  }
}

/** After a failed write, try again this much later, in ms. */
const RETRY_MS = 250;

/**
 * Writes attempts' endings back to the store. Endings that arrive together
 * go out in one call. With a remote store, endings that arrive while a
 * call is outstanding go out together once it returns, and while short jobs
 * end in quick succession it waits a little (a few ms at most) to fill a
 * batch; at idle (the hook says 0) nothing waits on a timer: the ending
 * goes out once this turn's microtasks ran. An inline store (memory) is written
 * synchronously, so a job's end is visible in the same turn it ended.
 * Endings the store could not write are kept and tried again: their claims
 * are still held meanwhile.
 */
export class WriteBack {
  readonly #store: JobStore;
  readonly #hooks: WriteBackHooks;
  #pending: Ending[] = [];
  #flushing: Promise<void> | undefined;
  #queued = false;
  /** The wait to fill a batch, while one runs. */
  #hold: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(store: JobStore, hooks: WriteBackHooks) {
    this.#store = store;
    this.#hooks = hooks;
  }

  add(ending: Ending): void {
    this.#pending.push(ending);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushing !== undefined || this.#retry !== undefined) {
      this.#queued = true;
      return;
    }
    const wait = this.#closing ? 0 : this.#hooks.waitMs(this.#pending.length);
    if (this.#queued) {
      // Held to fill a batch, and now nothing more is coming: write at once.
      if (wait < 1 && this.#hold !== undefined) {
        clearTimeout(this.#hold);
        this.#hold = undefined;
        setImmediate(this.#run);
      }
      return;
    }
    if (wait <= 0 && this.#store.claimsInline) {
      this.#flush();
      return;
    }
    this.#queued = true;
    if (wait >= 1) this.#hold = setTimeout(this.#run, wait);
    // At once: after this turn's other endings (one call for what ended
    // together), but before the event loop goes round (an idle job's end
    // waits on nothing else).
    else if (wait === 0) queueMicrotask(this.#run);
    else setImmediate(this.#run);
  }

  readonly #run = () => {
    this.#hold = undefined;
    this.#queued = false;
    this.#flush();
  };

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    let reply: ReturnType<JobStore["settle"]>;
    try {
      reply = this.#store.settle(batch);
    } catch (error) {
      this.#failed(batch, error);
      return;
    }
    if (Array.isArray(reply)) {
      this.#done(batch, reply);
      return;
    }
    this.#flushing = reply
      .then(
        (applied) => this.#done(batch, applied),
        (error) => this.#failed(batch, error),
      )
      .finally(() => {
        this.#flushing = undefined;
        if (this.#queued || this.#pending.length > 0) {
          this.#queued = false;
          if (this.#retry === undefined) this.#schedule();
        }
      });
  }

  #done(batch: readonly Ending[], applied: readonly (boolean | Refusal | undefined)[]): void {
    // `undefined`: the store could not write that one (its part of the batch failed).
    const again = batch.filter((_, i) => applied[i] === undefined);
    const written = again.length === 0 ? batch : batch.filter((_, i) => applied[i] !== undefined);
    if (written.length > 0) {
      const flags = again.length === 0 ? applied : applied.filter((a) => a !== undefined);
      this.#hooks.written(written, flags as (boolean | Refusal)[]);
    }
    if (again.length > 0) this.#keep(again);
  }

  #failed(batch: readonly Ending[], error: unknown): void {
    this.#store.problem("writing finished jobs", error);
    this.#keep(batch);
  }

  #keep(batch: readonly Ending[]): void {
    this.#pending.unshift(...batch);
    if (this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#queued = false;
      this.#schedule();
    }, RETRY_MS);
  }

  /** Writes everything pending, trying for a while (the store's drain time) when it fails. */
  async drain(): Promise<void> {
    this.#closing = true;
    const deadline = Date.now() + this.#store.drainMs;
    for (;;) {
      if (this.#flushing !== undefined) await this.#flushing;
      if (this.#pending.length === 0) return;
      if (Date.now() >= deadline) break;
      clearTimeout(this.#retry);
      this.#retry = undefined;
      this.#flush();
      if (this.#flushing !== undefined) await this.#flushing;
      if (this.#pending.length > 0) {
        clearTimeout(this.#retry);
        this.#retry = undefined;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#store.problem(
      "closing",
      new Error(
        `${this.#pending.length} finished jobs could not be written back; their claims will expire and they will run again`,
      ),
    );
  }
}
