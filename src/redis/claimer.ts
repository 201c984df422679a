import { decodeMsgpack } from "../codec.js";
import type { ClaimedJob, NewJob, RunnerPort } from "../engine/store.js";
import { ArgsEncoding } from "../executor/protocol.js";
import { type ClaimedRecord, unpackClaims } from "./packed.js";
import type { RedisLink } from "./redis-link.js";
import type { ParsedRedisOptions } from "./redis-options.js";

/** What the claims of one store need from it. */
export interface ClaimHooks {
  /** Resolves when a claim may go out (limits in Redis, events listened to). */
  ready(): Promise<void>;
  /** The runner claiming from the store, while attached. */
  runner(): RunnerPort | undefined;
  /** The first delayed job or throttled task is due at this time (ms). */
  due(at: number): void;
}

/**
 * This process's claims: each one script call, and one sent right behind a
 * local enqueue of a job that can run at once.
 */
export class Claims {
  readonly #link: RedisLink;
  readonly #o: ParsedRedisOptions;
  readonly #workerId: string;
  readonly #hooks: ClaimHooks;
  /** Claim calls in flight. */
  #claiming = 0;
  /** A wake-up behind a local enqueue is due (one at a time). */
  #wakeQueued = false;

  constructor(link: RedisLink, o: ParsedRedisOptions, workerId: string, hooks: ClaimHooks) {
    this.#link = link;
    this.#o = o;
    this.#workerId = workerId;
    this.#hooks = hooks;
  }

  async claim(n: number): Promise<ClaimedJob[]> {
    this.#claiming++;
    try {
      if (this.#link.refused !== undefined) throw this.#link.refused;
      await this.#hooks.ready();
      return await claimJobs(this.#link, this.#o, this.#workerId, n, this.#hooks.due);
    } finally {
      this.#claiming--;
    }
  }

  /**
   * Jobs were just sent to be stored. One this process can run at once is
   * claimed right behind the enqueue, on the same connection, so Redis runs
   * the claim just after it (no round trip to wait for the enqueue's reply
   * or its wake-up message). The enqueue goes out in this turn's
   * microtasks; setImmediate comes after. Should the claim arrive first
   * after all, the wake-up message the enqueue publishes claims again.
   * Only at idle: while a claim is out, its return claims again anyway.
   */
  inserted(jobs: readonly NewJob[]): void {
    if (
      this.#hooks.runner() !== undefined &&
      this.#claiming === 0 &&
      !this.#wakeQueued &&
      jobs.some(runsAtOnce)
    ) {
      this.#wakeQueued = true;
      setImmediate(this.#wakeLocal);
    }
  }

  readonly #wakeLocal = () => {
    this.#wakeQueued = false;
    if (this.#claiming === 0) this.#hooks.runner()?.wake();
  };
}

/** Ready once stored: no delay, no dependencies to wait for. */
function runsAtOnce(job: NewJob): boolean {
  return job.delayMs <= 0 && (job.dependsOn === undefined || job.dependsOn.length === 0);
}

/**
 * Claims up to `n` jobs with one claim script call: each is now running
 * under a lease whose token is the worker id and the attempt. The results
 * of the claimed jobs' dependencies are read in the same go (one round trip
 * for the batch, none when no job has any).
 */
export async function claimJobs(
  link: RedisLink,
  o: ParsedRedisOptions,
  workerId: string,
  n: number,
  due: (at: number) => void,
): Promise<ClaimedJob[]> {
  const k = o.keys;
  const reply = (await link.scripts.runBuffer(
    "claim",
    [k.ready, k.delayed, k.pending, k.leases],
    [workerId, n, o.worker.leaseMs],
  )) as Buffer[];
  const dueAt = reply[0]!.toString("latin1");
  if (dueAt !== "") due(Number(dueAt));
  const dropped = reply[2]?.toString() ?? "";
  if (dropped !== "") {
    o.worker.logger.warn(
      `rapidai: job(s) ${dropped.split(",").join(", ")} dropped from the queue: their key in Redis is not a job record (WRONGTYPE: something else wrote it); the value is left as it is`,
      { code: "ERR_BACKEND_CORRUPT" },
    );
  }
  const claimed = unpackClaims(reply[1]!);
  const results = await dependencyResults(link, o, claimed);
  return claimed.map((c) => ({
    id: c.id,
    task: c.task,
    attempt: c.attempt,
    maxRetries: c.maxRetries,
    timeoutMs: c.timeoutMs,
    dependsOn: c.dependsOn,
    trace: c.trace,
    ...(c.dependsOn === undefined ? {} : { dependencies: pick(results, c.dependsOn) }),
    args: c.args,
    encoding: c.args === undefined ? ArgsEncoding.NONE : ArgsEncoding.MSGPACK,
    token: `${workerId}:${c.attempt}`,
  }));
}

async function dependencyResults(
  link: RedisLink,
  o: ParsedRedisOptions,
  claimed: ClaimedRecord[],
): Promise<Map<string, unknown>> {
  const ids = [...new Set(claimed.flatMap((c) => c.dependsOn ?? []))];
  const out = new Map<string, unknown>();
  if (ids.length === 0) return out;
  const client = link.client;
  const values = await Promise.all(ids.map((id) => client.hgetBuffer(o.keys.job(id), "r")));
  for (let i = 0; i < ids.length; i++) {
    const bytes = values[i];
    let value: unknown;
    if (bytes !== null && bytes !== undefined && bytes.length > 0) {
      try {
        value = decodeMsgpack(bytes);
      } catch {
        // A corrupt result reads as none; the dependent still runs.
      }
    }
    out.set(ids[i]!, value);
  }
  return out;
}

function pick(results: Map<string, unknown>, ids: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of ids) out[id] = results.get(id);
  return out;
}
