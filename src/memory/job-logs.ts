import type { MemoryJob } from "./memory-job.js";

/** The log lines of in-memory jobs, the newest `max` kept per job. */
export class JobLogs {
  readonly #lines = new Map<string, string[]>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  append(job: MemoryJob, lines: readonly string[]): void {
    let log = this.#lines.get(job.id);
    if (log === undefined) this.#lines.set(job.id, (log = []));
    log.push(...lines);
    if (log.length > this.#max) log.splice(0, log.length - this.#max);
  }

  /** A copy: the caller may keep it while the job logs on. */
  of(jobId: string): string[] {
    return [...(this.#lines.get(jobId) ?? [])];
  }

  forget(jobId: string): void {
    this.#lines.delete(jobId);
  }
}
