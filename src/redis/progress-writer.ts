import { encodeMsgpack } from "../codec.js";
import type { ClaimedJob } from "../engine/store.js";
import type { QueueKeys } from "./queue-keys.js";
import type { RedisLink } from "./redis-link.js";

/**
 * Progress reports, written once per turn of the event loop: the last value
 * of each job, all jobs in one script call, however often they report.
 */
export class ProgressWriter {
  readonly #link: RedisLink;
  readonly #keys: QueueKeys;
  #progress = new Map<string, { job: ClaimedJob; value: Buffer }>();
  #queued = false;

  constructor(link: RedisLink, keys: QueueKeys) {
    this.#link = link;
    this.#keys = keys;
  }

  report(job: ClaimedJob, value: unknown): void {
    let bytes: Buffer;
    try {
      bytes = encodeMsgpack(value);
    } catch {
      return;
    }
    this.#progress.set(job.id, { job, value: bytes });
    if (this.#queued) return;
    this.#queued = true;
    setImmediate(() => {
      this.#queued = false;
      const progress = this.#progress;
      this.#progress = new Map();
      const args: (string | number | Uint8Array)[] = [progress.size];
      for (const [id, p] of progress) args.push(id, p.job.token, p.value);
      // Progress is advisory: a lost update is not retried.
      this.#link.scripts.run("progress", [this.#keys.leases], args).catch(() => 0);
    });
  }
}
