import type { Change } from "./changes.js";

/** What a store reports to the queue it serves. */
export interface ChangeSink {
  /** A change was applied (here, or with Redis in any process). */
  change(c: Change): void;
  /** A running job reported progress. */
  progress(jobId: string, task: string, value: unknown): void;
  /** The queue was paused or resumed. */
  paused(paused: boolean, at: number): void;
  /** A problem outside any one job. */
  error(error: Error): void;
  /** Another process changed the schedules (Redis). */
  schedulesChanged(): void;
  /** True while no listener or `waitFor` would see a change: a store may skip reporting it. */
  quiet(): boolean;
  /** A job ended or went back to pending (reported even when quiet, for `onIdle`). */
  ended(): void;
}
