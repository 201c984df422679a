import type { JobContext } from "../current-job.js";
import { ErrorCode, type JobError, jobError } from "../errors.js";
import { CancelFlag } from "./protocol.js";
import type { LogBuffer } from "./worker-logs.js";

/** The error a stopped job's signal aborts with, and `throwIfCancelled()` throws. */
export function stopError(flag: number): JobError {
  return flag === CancelFlag.TIMED_OUT
    ? jobError(ErrorCode.TIMEOUT, "the job timed out")
    : jobError(ErrorCode.CANCELLED, "the job was cancelled");
}

/** What a running job needs from its thread. */
export interface ThreadLink {
  /** Int32 cancel flags shared with the main thread, by slot. */
  flags: Int32Array;
  logs: LogBuffer;
  progress(slot: number, jobId: string, value: unknown): void;
}

/** A running job as the task sees it through `currentJob()`, on a worker thread. */
export class WorkerJob implements JobContext {
  #controller: AbortController | undefined;
  /** An uncaught error or unhandled rejection raised while this job ran. */
  lateError: unknown = undefined;

  constructor(
    readonly id: string,
    readonly task: string,
    readonly attempt: number,
    readonly slot: number,
    private readonly link: ThreadLink,
    private readonly depends: Record<string, unknown> = {},
  ) {}

  dependencies(): Record<string, unknown> {
    return this.depends;
  }

  // Made on first use: most jobs never look at their signal.
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const flag = Atomics.load(this.link.flags, this.slot);
      if (flag !== CancelFlag.NONE) this.#controller.abort(stopError(flag));
    }
    return this.#controller.signal;
  }

  progress(value: unknown): void {
    this.link.progress(this.slot, this.id, value);
  }

  log(text: string): void {
    this.link.logs.add(this.slot, this.id, text);
  }

  throwIfCancelled(): void {
    const flag = Atomics.load(this.link.flags, this.slot);
    if (flag !== CancelFlag.NONE) throw stopError(flag);
  }

  abort(flag: number): void {
    if (this.#controller === undefined) {
      this.signal; // creates it already aborted, from the shared flag
    } else if (!this.#controller.signal.aborted) {
      this.#controller.abort(stopError(flag));
    }
  }
}
