/**
 * Direct access to a queue's Lua scripts, for tests that play a worker by
 * hand (one that claims a job and then "dies", or answers late).
 */
import { Redis } from "ioredis";
import {
  type EnqueueOutcome,
  type EnqueueRecord,
  packCompletions,
  packEnqueues,
  readEnqueueReply,
  unpackClaims,
} from "../../src/redis/packed.js";
import { QueueKeys } from "../../src/redis/queue-keys.js";
import { ScriptRunner } from "../../src/redis/scripts.js";

export interface ClaimedJob {
  id: string;
  attempt: number;
  token: string;
  /** The effective retry budget the claim handed over (`attempt > maxRetries`: none left). */
  maxRetries?: number;
  task?: string;
  timeoutMs?: number | undefined;
}

export class ScriptedWorker {
  readonly client: Redis;
  readonly keys: QueueKeys;
  readonly scripts: ScriptRunner;

  constructor(
    url: string,
    prefix: string,
    readonly workerId = "scripted-worker",
  ) {
    this.client = new Redis(url, { maxRetriesPerRequest: 1 });
    this.keys = new QueueKeys(prefix);
    this.scripts = new ScriptRunner(this.client, prefix);
  }

  /** Enqueues jobs as the enqueue script takes them (task "scripted", no arguments unless given). */
  async enqueue(jobs: (Partial<EnqueueRecord> & { id: string })[]): Promise<EnqueueOutcome[]> {
    const k = this.keys;
    const packed = packEnqueues(
      jobs.map((j) => ({
        task: "scripted",
        args: new Uint8Array(0),
        maxRetries: 0,
        priority: 0,
        delayMs: 0,
        ...j,
      })),
    );
    const reply = await this.scripts.run(
      "enqueue",
      [k.ready, k.delayed, k.pending, k.seq],
      [packed],
    );
    return readEnqueueReply(reply as unknown[]);
  }

  /** Milliseconds on the Redis server's clock, the one the scripts use. */
  async now(): Promise<number> {
    const [s, us] = await this.client.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  /** Resolves once the Redis clock has reached `ms` (scripts decide by that clock, not ours). */
  async until(ms: number): Promise<void> {
    for (;;) {
      const now = await this.now();
      if (now >= ms) return;
      await new Promise((r) => setTimeout(r, Math.min(ms - now, 50)));
    }
  }

  /** Claims up to `n` ready jobs with a lease of `leaseMs`. */
  async claim(n: number, leaseMs: number): Promise<ClaimedJob[]> {
    return (await this.claimWithDue(n, leaseMs)).jobs;
  }

  /** Claims like `claim`, and returns the next due time the script answered (undefined for none). */
  async claimWithDue(
    n: number,
    leaseMs: number,
  ): Promise<{ jobs: ClaimedJob[]; due: number | undefined }> {
    const k = this.keys;
    const r = (await this.scripts.runBuffer(
      "claim",
      [k.ready, k.delayed, k.pending, k.leases],
      [this.workerId, n, leaseMs],
    )) as Buffer[];
    const due = r[0]!.toString("latin1");
    return {
      due: due === "" ? undefined : Number(due),
      jobs: unpackClaims(r[1]!).map(({ id, attempt, maxRetries, task, timeoutMs }) => ({
        id,
        attempt,
        maxRetries,
        task,
        timeoutMs,
        token: `${this.workerId}:${attempt}`,
      })),
    };
  }

  /** Completes jobs with msgpack `result` bytes; resolves with 1 (applied) or 0 (refused) each. */
  complete(jobs: ClaimedJob[], result = Buffer.from([0xc0])): Promise<number[]> {
    const k = this.keys;
    const packed = packCompletions(
      jobs.map((j) => ({
        id: j.id,
        token: j.token,
        result: result.toString("latin1"),
        durationMs: 1,
      })),
    );
    return this.scripts.run(
      "complete",
      [k.completed, k.cancelled, k.leases, k.done],
      [packed],
    ) as Promise<number[]>;
  }

  /** Ends attempts unsuccessfully: kind 'f' failed, 'r' retry, 'c' cancelled. */
  fail(jobs: ClaimedJob[], kind: "f" | "r" | "c", delayMs = 0): Promise<number[]> {
    const k = this.keys;
    const args: (string | number)[] = [jobs.length];
    for (const j of jobs)
      args.push(j.id, j.token, kind, "scripted", "ERR_SCRIPTED", delayMs, 1, "Error: scripted");
    return this.scripts.run(
      "fail",
      [k.ready, k.delayed, k.pending, k.failed, k.cancelled, k.leases, k.done],
      args,
    ) as Promise<number[]>;
  }

  handBack(jobs: ClaimedJob[]): Promise<number[]> {
    const k = this.keys;
    const args: (string | number)[] = [jobs.length];
    for (const j of jobs) args.push(j.id, j.token);
    return this.scripts.run(
      "handBack",
      [k.ready, k.pending, k.cancelled, k.leases, k.done],
      args,
    ) as Promise<number[]>;
  }

  renew(jobs: ClaimedJob[], leaseMs: number): Promise<string[]> {
    const args: (string | number)[] = [leaseMs, jobs.length];
    for (const j of jobs) args.push(j.id, j.token);
    return this.scripts.run("renewLeases", [this.keys.leases], args) as Promise<string[]>;
  }

  /** Expires the leases that ran out; resolves with the number expired. */
  async expire(): Promise<number> {
    const k = this.keys;
    const r = (await this.scripts.run(
      "expireLeases",
      [k.leases, k.ready, k.pending, k.failed, k.cancelled, k.done, k.delayed],
      [1000],
    )) as number[];
    return r[0]!;
  }

  cancel(id: string): Promise<number> {
    const k = this.keys;
    return this.scripts.run(
      "cancel",
      [k.ready, k.delayed, k.pending, k.cancelled, k.done],
      [id],
    ) as Promise<number>;
  }

  status(id: string): Promise<string | null> {
    return this.client.hget(this.keys.job(id), "s");
  }

  close(): void {
    this.client.disconnect();
  }
}

/**
 * Whether job `id` is in the pending index: an `s:pending` entry, or, for a
 * pending job, a live entry in the fifo list (its entries there outnumber
 * its stale ones), which is the index of the fresh jobs it holds.
 */
export async function pendingIndexed(client: Redis, k: QueueKeys, id: string): Promise<boolean> {
  if ((await client.zscore(k.pending, id)) !== null) return true;
  if ((await client.hget(k.job(id), "s")) !== "pending") return false;
  const entries = ((await client.lpos(k.fifo, id, "COUNT", 0)) as unknown as number[]).length;
  return entries > Number((await client.hget(k.fifoStale, id)) ?? 0);
}

/** The number of pending jobs as the indexes hold them, read by the queue's own counts script. */
export async function pendingInIndexes(client: Redis, k: QueueKeys): Promise<number> {
  const counts = (await new ScriptRunner(client, k.prefix).run(
    "counts",
    k.statuses,
    [],
  )) as number[];
  return counts[0]!;
}
