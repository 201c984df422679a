import { thisProcess, type WorkerInfo } from "../worker-info.js";
import type { RedisClient } from "./connection.js";
import type { QueueKeys } from "./queue-keys.js";

/**
 * The worker processes of a queue, seen by every process that shares the
 * prefix. Each processing process keeps a hash `worker:<id>` with a TTL and
 * its id in the `workers` sorted set (score: its last heartbeat), so the
 * list is read without SCAN; a record whose TTL ran out (the process died)
 * is dropped from the set by whoever lists next.
 */
export class Fleet {
  readonly #keys: QueueKeys;
  readonly #client: () => RedisClient;

  constructor(keys: QueueKeys, client: () => RedisClient) {
    this.#keys = keys;
    this.#client = client;
  }

  /** This process's record, running `running` jobs of a queue with `threads` threads. */
  beatAs(
    workerId: string,
    threads: number,
    since: number,
    running: number,
    ttlMs: number,
  ): Promise<void> {
    const queue = { backend: "redis" as const, prefix: this.#keys.prefix, threads };
    return this.beat(thisProcess(workerId, queue, since, running), ttlMs);
  }

  /** Writes (or renews) this process's record for `ttlMs`. */
  async beat(info: WorkerInfo, ttlMs: number): Promise<void> {
    const k = this.#keys;
    const key = k.worker(info.id);
    const now = info.heartbeatAt.getTime();
    await this.#client()
      .multi()
      .hset(key, {
        host: info.host,
        pid: info.pid,
        threads: info.threads,
        running: info.running,
        version: info.version,
        started: info.startedAt.getTime(),
        beat: now,
      })
      .pexpire(key, ttlMs)
      .zadd(k.workers, now, info.id)
      .exec();
  }

  /** Removes this process's record (a graceful stop). */
  async leave(id: string): Promise<void> {
    await this.#client().multi().del(this.#keys.worker(id)).zrem(this.#keys.workers, id).exec();
  }

  /** Every live worker process of the queue, oldest first. */
  async list(): Promise<WorkerInfo[]> {
    const client = this.#client();
    const k = this.#keys;
    const ids = await client.zrange(k.workers, 0, -1);
    const hashes = await Promise.all(ids.map((id) => client.hgetall(k.worker(id))));
    const gone = ids.filter((_, i) => hashes[i]!.pid === undefined);
    if (gone.length > 0) await client.zrem(k.workers, ...gone);
    const out: WorkerInfo[] = [];
    ids.forEach((id, i) => {
      const h = hashes[i]!;
      if (h.pid === undefined) return;
      const base = thisProcess(id, { backend: "redis", prefix: k.prefix, threads: 0 }, 0, 0);
      out.push({
        ...base,
        host: h.host ?? "",
        pid: Number(h.pid),
        threads: Number(h.threads),
        running: Number(h.running),
        version: h.version ?? "",
        startedAt: new Date(Number(h.started)),
        heartbeatAt: new Date(Number(h.beat)),
      });
    });
    return out.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  }
}

/**
 * This process's place in the fleet while its runner claims: a record
 * renewed every check, which lives three checks (one late beat does not
 * drop it), expires on its own if the process dies, and is removed at once
 * on a graceful stop.
 */
export class FleetMember {
  readonly #fleet: Fleet;
  readonly #workerId: string;
  readonly #threads: number;
  readonly #checkMs: number;
  readonly #problem: (what: string, error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #since = 0;

  constructor(
    fleet: Fleet,
    workerId: string,
    threads: number,
    checkMs: number,
    problem: (what: string, error: unknown) => void,
  ) {
    this.#fleet = fleet;
    this.#workerId = workerId;
    this.#threads = threads;
    this.#checkMs = checkMs;
    this.#problem = problem;
  }

  /** Joins the fleet, reporting how many jobs `running` says are held, and renews every check. */
  join(running: () => number): void {
    this.#since = Date.now();
    const beat = () =>
      this.#fleet
        .beatAs(this.#workerId, this.#threads, this.#since, running(), this.#ttlMs)
        .catch((error) => this.#problem("registering the worker", error));
    void beat();
    this.#timer = setInterval(beat, this.#checkMs);
    this.#timer.unref();
  }

  async leave(): Promise<void> {
    clearInterval(this.#timer);
    await this.#fleet.leave(this.#workerId).catch(() => {});
  }

  get #ttlMs(): number {
    return Math.max(1_000, 3 * this.#checkMs);
  }
}
