/**
 * The leases one worker process holds, renewed together: one timer for the
 * whole process, one script call per renewal (chunked for very many jobs),
 * whatever the number of jobs. A renewal also reports leases that were lost
 * (the job was taken over, deleted, or its key overwritten with another
 * type) and cancels that were asked, so a worker that
 * missed a control message still learns of them.
 */
export interface LeaseHolder {
  readonly id: string;
  readonly token: string;
}

/** What a renewal says of one lease: lost (and why: see `Refusal`), or a cancel was asked. */
export type LeaseVerdict = "lost" | "gone" | "corrupt" | "cancel";

export interface LeaseKeeperHooks<T extends LeaseHolder> {
  /** The jobs whose leases to renew now. */
  held(): Iterable<T>;
  /** Runs the renew script for one chunk of [id, token] pairs; resolves with [id, verdict] pairs. */
  renew(pairs: [string, string][]): Promise<[string, LeaseVerdict][]>;
  /** `token`: the claim the verdict is about (the job may have been claimed again since). */
  lost(id: string, why: "taken" | "gone" | "corrupt", token: string): void;
  cancel(id: string): void;
  failed(error: unknown): void;
}

const CHUNK = 2000;

export class LeaseKeeper<T extends LeaseHolder> {
  readonly #intervalMs: number;
  readonly #hooks: LeaseKeeperHooks<T>;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  /** Renews every `leaseMs / 4`, so a renewal may be late by most of a lease without the lease running out. */
  constructor(leaseMs: number, hooks: LeaseKeeperHooks<T>) {
    this.#intervalMs = Math.max(10, Math.floor(leaseMs / 4));
    this.#hooks = hooks;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.renewNow(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One renewal round now (skipped while the previous one is still out). */
  async renewNow(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const pairs: [string, string][] = [];
      for (const job of this.#hooks.held()) pairs.push([job.id, job.token]);
      for (let i = 0; i < pairs.length; i += CHUNK) {
        const chunk = pairs.slice(i, i + CHUNK);
        const verdicts = await this.#hooks.renew(chunk);
        const tokens = verdicts.length === 0 ? undefined : new Map(chunk);
        for (const [id, verdict] of verdicts) {
          if (verdict === "cancel") this.#hooks.cancel(id);
          else this.#hooks.lost(id, verdict === "lost" ? "taken" : verdict, tokens?.get(id) ?? "");
        }
      }
    } catch (error) {
      this.#hooks.failed(error);
    } finally {
      this.#running = false;
    }
  }
}
