import type { JobStatus } from "../job-status.js";

/** What became of the dependents of a job that ended. */
export interface FinishedDependency {
  /** Dependents with nothing left to wait for: they may run now (in this order). */
  ready: string[];
  /**
   * Dependents that can never run, in the order to fail them: those of the
   * job that ended, then theirs, down the chain. Each fails with
   * ERR_DEPENDENCY_FAILED and 0 attempts.
   */
  failed: string[];
  /** For each failed dependent, the dependency whose end failed it. */
  causes: Map<string, string>;
}

/**
 * The waiting side of `dependsOn` for the in-memory queue, as plain data:
 * which pending jobs wait for which unfinished jobs. The queue adds a job
 * whose dependencies are not all completed (see `classifyDependencies`),
 * tells the graph whenever a job ends, and moves the jobs it names. Jobs
 * that wait for nothing are not in it.
 */
export class DependencyGraph {
  /** Job → its dependencies not completed yet. */
  readonly #waiting = new Map<string, Set<string>>();
  /** Job → the jobs waiting for it. */
  readonly #dependents = new Map<string, Set<string>>();

  /** Job `jobId` waits until each of `unfinished` has completed. */
  add(jobId: string, unfinished: Iterable<string>): void {
    const deps = new Set(unfinished);
    if (deps.size === 0) return;
    this.#waiting.set(jobId, deps);
    for (const d of deps) {
      let set = this.#dependents.get(d);
      if (set === undefined) this.#dependents.set(d, (set = new Set()));
      set.add(jobId);
    }
  }

  /** True while `jobId` waits for a dependency. */
  isWaiting(jobId: string): boolean {
    return this.#waiting.has(jobId);
  }

  /** The dependencies `jobId` still waits for. */
  waitingOn(jobId: string): string[] {
    return [...(this.#waiting.get(jobId) ?? [])];
  }

  /** Jobs that wait for something. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Job `depId` reached terminal `status`. Completed: its dependents lose one
   * dependency, and those left with none are ready. Failed or cancelled:
   * every job that waits for it, directly or down a chain, can never run.
   * Call it for every job that ends (it costs one map look-up for a job
   * nothing depends on).
   */
  onFinished(depId: string, status: JobStatus): FinishedDependency {
    const out: FinishedDependency = { ready: [], failed: [], causes: new Map() };
    if (!this.#dependents.has(depId)) return out;
    if (status === "completed") {
      for (const d of this.#take(depId)) {
        const deps = this.#waiting.get(d);
        if (deps === undefined) continue;
        deps.delete(depId);
        if (deps.size === 0) {
          this.#waiting.delete(d);
          out.ready.push(d);
        }
      }
      return out;
    }
    const work = [depId];
    for (let i = 0; i < work.length; i++) {
      const dep = work[i]!;
      for (const d of this.#take(dep)) {
        if (!this.#forgetWaiting(d)) continue;
        out.failed.push(d);
        out.causes.set(d, dep);
        work.push(d);
      }
    }
    return out;
  }

  /**
   * Job `jobId` ended while it waited (it was cancelled): it waits no more.
   * Its own dependents are the caller's to end, through {@link onFinished}.
   */
  forget(jobId: string): void {
    this.#forgetWaiting(jobId);
  }

  #forgetWaiting(jobId: string): boolean {
    const deps = this.#waiting.get(jobId);
    if (deps === undefined) return false;
    this.#waiting.delete(jobId);
    for (const d of deps) {
      const set = this.#dependents.get(d);
      set?.delete(jobId);
      if (set?.size === 0) this.#dependents.delete(d);
    }
    return true;
  }

  #take(depId: string): string[] {
    const set = this.#dependents.get(depId);
    this.#dependents.delete(depId);
    return set === undefined ? [] : [...set];
  }
}
