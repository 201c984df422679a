import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { assertCloneable, assertPayloadSize, decodeMsgpack, encodeMsgpack } from "../codec.js";
import { dependencyNotFound } from "../engine/dependencies.js";
import type { ChangeSink } from "../engine/engine-queue.js";
import type { Pace } from "../engine/pace-meter.js";
import type {
  CancelOutcome,
  ClaimedJob,
  CleanQuery,
  Ending,
  JobStore,
  ListQuery,
  LogEntry,
  NewJob,
  RunnerPort,
  SettleReply,
  StoredArgs,
} from "../engine/store.js";
import { JobError } from "../errors.js";
import { ArgsEncoding } from "../executor/protocol.js";
import type { JobCounts } from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import { JOB_STATUSES } from "../job-status.js";
import { isConnectionError } from "./connection.js";
import { type DependencyRecord, dependencyRefusal, packDependencies } from "./dependency-pack.js";
import { handBack, writeEndings } from "./endings.js";
import { EventRelay } from "./event-relay.js";
import { hashFromListed, jobResultFromHash } from "./job-record.js";
import { RedisOperations } from "./operations.js";
import {
  type ClaimedRecord,
  type EnqueueRecord,
  enqueuedIds,
  packEnqueues,
  readEnqueueReply,
  unpackClaims,
} from "./packed.js";
import { RedisLink } from "./redis-link.js";
import type { ParsedRedisOptions } from "./redis-options.js";
import { RedisScheduleStore } from "./schedule-store.js";
import { Upkeep } from "./upkeep.js";

/** Jobs per enqueue script call. */
const BATCH = 500;
/** Endings written in one call when jobs end fast enough to gather them… */
const FLUSH_BATCH = 200;
/** …waiting at most this long, in ms. */
const FLUSH_WAIT_MS = 4;
const MAX_PREFETCH = 512;

/**
 * The Redis store: every change is one Lua script (src/redis/scripts), so
 * any number of processes share the queue. Claims take renewable leases
 * (fencing tokens); the scripts publish each change, which {@link EventRelay}
 * brings to every process.
 */
export class RedisStore implements JobStore {
  readonly backend = "redis" as const;
  readonly encodesResults = true;
  readonly shared = true;
  readonly relaysEvents = true;
  readonly claimsInline = false;
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  readonly #o: ParsedRedisOptions;
  readonly #sink: ChangeSink;
  readonly link: RedisLink;
  readonly #relay: EventRelay;
  #upkeep: Upkeep | undefined;
  #schedules: RedisScheduleStore | undefined;
  #operations: RedisOperations | undefined;
  #batch: {
    row: EnqueueRecord;
    deps: DependencyRecord;
    resolve: (outcome: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];
  #progress = new Map<string, { job: ClaimedJob; value: Buffer }>();
  #progressQueued = false;
  /** Reads in flight, so close() lets them end before it disconnects. */
  #reads = new Set<Promise<unknown>>();
  #downSince = 0;
  #connected = false;
  #startedAt = Date.now();
  #lastProblem = "";
  #lastProblemAt = 0;

  constructor(options: ParsedRedisOptions, sink: ChangeSink) {
    this.#o = options;
    this.#sink = sink;
    this.link = new RedisLink(options.connection, options.keys.prefix, options.worker.logger);
    this.#relay = new EventRelay(
      options.keys,
      options.connection,
      () => this.link.client,
      () => this.link.bus,
      sink,
    );
    this.link.onReady(() => {
      this.#connected = true;
      if (this.#downSince > 0) {
        this.#o.worker.logger.warn(
          `rapidai: reconnected to Redis after ${Math.round((Date.now() - this.#downSince) / 1000)} s`,
          { code: "BACKEND_RECONNECTED" },
        );
        this.#downSince = 0;
      }
      void this.#relay.mark().catch(() => {});
    });
  }

  get schedules(): RedisScheduleStore {
    this.#schedules ??= new RedisScheduleStore(this.link.client, this.#o.keys, this.link.scripts);
    return this.#schedules;
  }

  get drainMs(): number {
    // No use trying past the lease: the jobs run again anyway once it expires.
    return Math.min(5000, this.#o.worker.leaseMs);
  }

  flushWaitMs(pending: number, msPerJob: number): number {
    // While short jobs end in quick succession, wait a little longer (at most
    // a few ms) to fill a batch: fewer, larger calls cost Redis and this
    // thread much less.
    return Math.min(FLUSH_WAIT_MS, (FLUSH_BATCH - pending) * msPerJob);
  }

  prefetch(capacity: number, pace: Pace): number {
    if (this.#o.worker.prefetch !== undefined) return this.#o.worker.prefetch;
    // Until jobs were timed, keep one extra job per slot. Then hold enough to
    // keep the threads busy for four claim round trips at the observed pace:
    // many for jobs shorter than a round trip, none for long ones.
    if (pace.msPerJob < 0) return capacity;
    const extra = Math.floor((4 * pace.claimMs) / Math.max(pace.msPerJob, 0.001));
    return Math.min(extra, MAX_PREFETCH);
  }

  problem(what: string, error: unknown): void {
    const logger = this.#o.worker.logger;
    if (isConnectionError(error)) {
      // Before the first ready connection, and for the first 2 s, connection
      // errors are the connection still being made, not news.
      if (this.#downSince === 0 && (this.#connected || Date.now() - this.#startedAt > 2_000)) {
        this.#downSince = Date.now();
        logger.warn(
          `rapidai: Redis unreachable while ${what} (${(error as Error)?.message ?? error}); retrying`,
          { code: "BACKEND_UNREACHABLE" },
        );
      }
      return;
    }
    // Anything else (a full Redis, a permission missing) repeats at every
    // poll: report each distinct problem at most every 30 s.
    const e = error instanceof Error ? error : new Error(String(error));
    const now = Date.now();
    if (e.message === this.#lastProblem && now - this.#lastProblemAt < 30_000) return;
    this.#lastProblem = e.message;
    this.#lastProblemAt = now;
    logger.warn(`rapidai: ${what}: ${e.message}`, { code: "QUEUE_PROBLEM" });
    this.#sink.error(new Error(`${what}: ${e.message}`, { cause: e }));
  }

  async listen(events: readonly string[]): Promise<void> {
    try {
      await this.#relay.listen(events);
    } catch (error) {
      throw this.link.unavailable(error);
    }
  }

  encodeArgs(args: unknown[]): StoredArgs {
    if (args.length === 0) return { bytes: undefined, encoding: ArgsEncoding.NONE };
    // Primitives always clone; anything else is checked so the error names the argument.
    if (!args.every(isPrimitive)) assertCloneable(args);
    const bytes = encodeMsgpack(args);
    assertPayloadSize(bytes.byteLength, this.#o.common.maxPayloadBytes);
    return { bytes, encoding: ArgsEncoding.MSGPACK };
  }

  /** Events of what this call does must reach listeners already registered here. */
  async #front(): Promise<void> {
    if (this.#relay.ready !== undefined) {
      try {
        await this.#relay.ready;
      } catch (error) {
        throw this.link.unavailable(error);
      }
    }
  }

  async insert(jobs: NewJob[]): Promise<string[]> {
    await this.#front();
    const rows = jobs.map(toRecord);
    const deps = jobs.map((j) => ({ id: j.id, dependsOn: j.dependsOn ?? [] }));
    if (rows.length === 1) {
      // Enqueues made in the same tick (a loop that does not await each one,
      // Promise.all) share one script call, as enqueueMany would. Each job
      // was checked before; a Redis error fails the whole batch, each caller with it.
      const outcome = await new Promise<unknown>((resolve, reject) => {
        this.#batch.push({ row: rows[0]!, deps: deps[0]!, resolve, reject });
        if (this.#batch.length === 1) queueMicrotask(() => this.#writeBatch());
        else if (this.#batch.length >= BATCH) this.#writeBatch();
      });
      return [this.#idOf(jobs[0]!.id, outcome)];
    }
    // Every dependency must exist before any job of the batch is stored
    // (the script checks again, atomically, for each job).
    await this.#checkDependencies(jobs);
    const ids: string[] = [];
    for (let i = 0; i < rows.length; i += BATCH) {
      const reply = await this.#enqueue(rows.slice(i, i + BATCH), deps.slice(i, i + BATCH));
      for (let j = 0; j < reply.length; j++) ids.push(this.#idOf(jobs[i + j]!.id, reply[j]));
    }
    return ids;
  }

  /** The id the caller gets for one job, or the coded refusal of its missing dependency. */
  #idOf(id: string, outcome: unknown): string {
    const refused = dependencyRefusal(id, outcome);
    if (refused !== undefined) throw refused;
    return enqueuedIds([id], readEnqueueReply([outcome]))[0]!;
  }

  async #checkDependencies(jobs: NewJob[]): Promise<void> {
    const batch = new Set(jobs.map((j) => j.id));
    const wanted = [...new Set(jobs.flatMap((j) => j.dependsOn ?? []))].filter(
      (d) => !batch.has(d),
    );
    if (wanted.length === 0) return;
    const found = await this.link.command((c) =>
      Promise.all(wanted.map((d) => c.exists(this.#o.keys.job(d)))),
    );
    const missing = wanted.find((_, i) => found[i] === 0);
    if (missing === undefined) return;
    const job = jobs.find((j) => j.dependsOn?.includes(missing))!;
    throw dependencyNotFound(job.id, missing);
  }

  #writeBatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#enqueue(
      batch.map((b) => b.row),
      batch.map((b) => b.deps),
    ).then(
      (reply) => {
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(reply[i]);
      },
      (error) => {
        for (const b of batch) b.reject(error);
      },
    );
  }

  async #enqueue(rows: EnqueueRecord[], deps: DependencyRecord[]): Promise<unknown[]> {
    const k = this.#o.keys;
    const args: Buffer[] = [packEnqueues(rows)];
    if (deps.some((d) => d.dependsOn.length > 0)) args.push(packDependencies(deps));
    return (await this.link.run(
      "enqueue",
      [k.ready, k.delayed, k.pending, k.seq],
      args,
    )) as unknown[];
  }

  get(jobId: string): Promise<JobResult | undefined> {
    const k = this.#o.keys;
    const read = this.#front().then(() =>
      this.link.command((c) =>
        Promise.all([c.hgetallBuffer(k.job(jobId)), c.zscore(k.delayed, jobId)]),
      ),
    );
    this.#reads.add(read);
    const forget = () => this.#reads.delete(read);
    read.then(forget, forget);
    // A pending job in the delayed set waits for its delay or backoff: its score is when it may run.
    return read.then(([h, due]) =>
      jobResultFromHash(jobId, h, true, due === null ? undefined : Number(due)),
    );
  }

  async list(q: ListQuery): Promise<JobResult[]> {
    await this.#front();
    const limit = q.limit === Number.POSITIVE_INFINITY ? -1 : q.limit;
    const reply = (await this.link.run(
      "list",
      this.#o.keys.statuses,
      [q.status ?? "", q.offset, limit, q.task ?? ""],
      true,
    )) as (Buffer | Buffer[])[];
    const out: JobResult[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const id = (reply[i] as Buffer).toString();
      const r = jobResultFromHash(id, hashFromListed(reply[i + 1] as (Buffer | null)[]), false);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  async counts(): Promise<JobCounts> {
    const counts = await this.link.command((c) =>
      Promise.all(this.#o.keys.statuses.map((key) => c.zcard(key))),
    );
    return Object.fromEntries(JOB_STATUSES.map((s, i) => [s, counts[i]!])) as JobCounts;
  }

  async cancel(jobId: string): Promise<CancelOutcome> {
    await this.#front();
    const k = this.#o.keys;
    const r = (await this.link.run(
      "cancel",
      [k.ready, k.delayed, k.pending, k.cancelled, k.done],
      [jobId],
    )) as number;
    return r === 0 ? "none" : r === 1 ? "cancelled" : "running";
  }

  // ---- operating jobs ----

  get #ops(): RedisOperations {
    this.#operations ??= new RedisOperations(this.link.scripts, this.link.client, this.#o.keys);
    return this.#operations;
  }

  /** Runs an operation once connected, its connection failure coded. */
  async #op<T>(fn: (ops: RedisOperations) => Promise<T>): Promise<T> {
    await this.#front();
    await this.link.ready();
    try {
      return await fn(this.#ops);
    } catch (error) {
      if (error instanceof JobError) throw error;
      throw this.link.unavailable(error);
    }
  }

  retry(jobId: string): Promise<boolean> {
    return this.#op((ops) => ops.retry(jobId));
  }
  promote(jobId: string): Promise<boolean> {
    return this.#op((ops) => ops.promote(jobId));
  }
  setPaused(paused: boolean): Promise<void> {
    return this.#op((ops) => (paused ? ops.pause() : ops.resume()));
  }
  isPaused(): Promise<boolean> {
    return this.#op((ops) => ops.isPaused());
  }
  remove(jobId: string): Promise<boolean> {
    return this.#op((ops) => ops.remove(jobId));
  }
  clean(q: CleanQuery): Promise<number> {
    return this.#op((ops) => ops.clean(q));
  }
  getLogs(jobId: string): Promise<string[] | undefined> {
    return this.#op((ops) => ops.getLogs(jobId));
  }
  appendLogs(entries: LogEntry[]): void {
    const lines = entries.map((e) => ({ jobId: e.job.id, token: e.job.token, lines: e.lines }));
    // Logs are advisory like progress: a line lost to a dropped connection is not retried.
    this.#ops
      .appendLogs(lines, this.#o.worker.maxLogLines)
      .catch((error) => this.problem("writing job logs", error));
  }

  // ---- the worker side ----

  attach(runner: RunnerPort): void {
    const link = this.link;
    const client = link.client;
    if (client.status === "wait") client.connect().catch(() => {});
    this.#upkeep = new Upkeep({
      keys: this.#o.keys,
      scripts: link.scripts,
      client,
      bus: link.bus,
      settings: this.#o.worker,
      subscribeTimeoutMs: this.#o.connection.commandTimeoutMs,
      problem: (what, error) => this.problem(what, error),
      schedulesChanged: () => this.#sink.schedulesChanged(),
      ops: () => this.#ops,
      listening: () => this.#front(),
    });
    this.#upkeep.start(runner);
  }

  async detach(): Promise<void> {
    await this.#upkeep?.stop();
  }

  async close(): Promise<void> {
    // Jobs this process finished last may have their events still on the
    // way: let whoever waits for them look once more before disconnecting.
    while (this.#reads.size > 0) await Promise.allSettled([...this.#reads]);
    this.#relay.stop();
    await this.link.close();
  }

  async claim(n: number): Promise<ClaimedJob[]> {
    // No job of a limited task may start before its limits are in Redis, and
    // the changes of this claim must reach the listeners registered here.
    await this.#upkeep?.limitsShared;
    await this.#front();
    const k = this.#o.keys;
    const reply = (await this.link.scripts.runBuffer(
      "claim",
      [k.ready, k.delayed, k.pending, k.leases],
      [this.workerId, n, this.#o.worker.leaseMs],
    )) as Buffer[];
    const due = reply[0]!.toString("latin1");
    if (due !== "") this.#upkeep?.scheduleDue(Number(due));
    const claimed = unpackClaims(reply[1]!);
    const results = await this.#dependencyResults(claimed);
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
      token: `${this.workerId}:${c.attempt}`,
    }));
  }

  /**
   * The results of the dependencies of the claimed jobs that have some, read
   * in one round trip (jobs without dependencies cost nothing here).
   */
  async #dependencyResults(claimed: ClaimedRecord[]): Promise<Map<string, unknown>> {
    const ids = [...new Set(claimed.flatMap((c) => c.dependsOn ?? []))];
    const out = new Map<string, unknown>();
    if (ids.length === 0) return out;
    const client = this.link.client;
    const values = await Promise.all(ids.map((id) => client.hgetBuffer(this.#o.keys.job(id), "r")));
    ids.forEach((id, i) => {
      const bytes = values[i];
      if (bytes === null || bytes === undefined || bytes.length === 0) out.set(id, undefined);
      else {
        try {
          out.set(id, decodeMsgpack(bytes));
        } catch {
          // A corrupt result reads as none; the dependent still runs.
          out.set(id, undefined);
        }
      }
    });
    return out;
  }

  async settle(endings: readonly Ending[]): Promise<SettleReply> {
    const applied = await writeEndings(this.link.scripts, this.#o.keys, endings);
    this.#upkeep?.finished(applied.filter((a) => a !== undefined).length);
    return applied;
  }

  progress(job: ClaimedJob, value: unknown): void {
    let bytes: Buffer;
    try {
      bytes = encodeMsgpack(value);
    } catch {
      return;
    }
    this.#progress.set(job.id, { job, value: bytes });
    if (this.#progressQueued) return;
    this.#progressQueued = true;
    setImmediate(() => {
      this.#progressQueued = false;
      const progress = this.#progress;
      this.#progress = new Map();
      const args: (string | number | Uint8Array)[] = [progress.size];
      for (const [id, p] of progress) args.push(id, p.job.token, p.value);
      // Progress is advisory: a lost update is not retried.
      this.link.scripts.run("progress", [this.#o.keys.leases], args).catch(() => 0);
    });
  }

  async handBack(jobs: readonly ClaimedJob[]): Promise<void> {
    await handBack(this.link.scripts, this.#o.keys, jobs);
  }
}

function toRecord(j: NewJob): EnqueueRecord {
  return {
    id: j.id,
    task: j.task.name,
    args: j.args.bytes ?? NO_ARGS,
    maxRetries: j.maxRetries,
    priority: j.priority,
    delayMs: j.delayMs,
    timeoutMs: j.timeoutMs,
    dedupe: j.dedupe,
    trace: j.trace === undefined ? undefined : JSON.stringify(j.trace),
  };
}

/** A job with no arguments stores none (the enqueue script writes no `a` field). */
const NO_ARGS = new Uint8Array(0);

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol");
}

function pick(results: Map<string, unknown>, ids: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of ids) out[id] = results.get(id);
  return out;
}
