import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { ChangeSink } from "../engine/change-sink.js";
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
import type { JobCounts } from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import type { WorkerInfo } from "../worker-info.js";
import { Claims } from "./claimer.js";
import { handBack, writeEndings } from "./endings.js";
import { Enqueuer, encodeRedisArgs } from "./enqueuer.js";
import { EventRelay } from "./event-relay.js";
import { Fleet, FleetMember } from "./fleet.js";
import { countJobs, listJobs, readJob } from "./job-reads.js";
import { RedisOperations } from "./operations.js";
import { flushWaitMs, prefetchFor } from "./pacing.js";
import { ProblemLog, warnCredentialsRefused } from "./problem-log.js";
import { ProgressWriter } from "./progress-writer.js";
import { RedisLink } from "./redis-link.js";
import type { ParsedRedisOptions } from "./redis-options.js";
import { RedisScheduleStore } from "./schedule-store.js";
import { Upkeep } from "./upkeep.js";

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
  readonly #progress: ProgressWriter;
  /** Reads in flight, so close() lets them end before it disconnects. */
  #reads = new Set<Promise<unknown>>();
  readonly #enqueuer: Enqueuer;
  readonly #problems: ProblemLog;
  readonly #fleet: Fleet;
  readonly #member: FleetMember;
  /** The runner claiming from this store, while attached. */
  #runner: RunnerPort | undefined;
  readonly #claims: Claims;

  constructor(options: ParsedRedisOptions, sink: ChangeSink) {
    this.#o = options;
    this.#sink = sink;
    this.link = new RedisLink(options.connection, options.keys.prefix, options.worker.logger);
    this.#fleet = new Fleet(options.keys, () => this.link.client);
    this.#member = new FleetMember(
      this.#fleet,
      this.workerId,
      options.common.threads,
      options.worker.checkIntervalMs,
      (what, error) => this.problem(what, error),
    );
    this.#relay = new EventRelay(
      options.keys,
      options.connection,
      () => this.link.client,
      () => this.link.bus,
      sink,
    );
    this.#problems = new ProblemLog(options.worker.logger, this.link, sink);
    this.#enqueuer = new Enqueuer(this.link, options.keys, options.replicationTimeoutMs);
    this.#progress = new ProgressWriter(this.link, options.keys);
    this.#claims = new Claims(this.link, options, this.workerId, {
      // No job of a limited task may start before its limits are in Redis, and
      // the changes of this claim must reach the listeners registered here.
      ready: async () => {
        await this.#upkeep?.limitsShared;
        await this.#front();
      },
      runner: () => this.#runner,
      due: (at) => this.#upkeep?.scheduleDue(at),
    });
    this.link.onReady(() => {
      this.#problems.connected();
      void this.#relay.mark().catch(() => {});
    });
    // Credentials Redis refuses are final: say so once, loudly, and stop
    // claiming (every later call fails at once with the same error).
    this.link.onRefused((error) => {
      warnCredentialsRefused(options.worker.logger, options.connection.url, error);
      void this.#upkeep?.stop();
      sink.error(error);
    });
  }

  get schedules(): RedisScheduleStore {
    this.#schedules ??= new RedisScheduleStore(this.link.client, this.#o.keys, this.link.scripts, {
      ready: () => this.link.ready(),
    });
    return this.#schedules;
  }

  get drainMs(): number {
    // No use trying past the lease: the jobs run again anyway once it expires.
    return Math.min(5000, this.#o.worker.leaseMs);
  }

  flushWaitMs(pending: number, msPerJob: number): number {
    return flushWaitMs(pending, msPerJob);
  }

  prefetch(capacity: number, pace: Pace): number {
    return prefetchFor(capacity, pace, this.#o.worker.prefetch);
  }

  async listen(events: readonly string[]): Promise<void> {
    try {
      await this.#relay.listen(events);
    } catch (error) {
      throw this.link.coded(error);
    }
  }

  encodeArgs(args: unknown[]): StoredArgs {
    return encodeRedisArgs(args, this.#o.common.maxPayloadBytes);
  }

  insert(jobs: NewJob[]): Promise<string[]> {
    const stored = this.#front().then(() => this.#enqueuer.insert(jobs));
    this.#claims.inserted(jobs);
    return stored;
  }

  problem(what: string, error: unknown): void {
    this.#problems.report(what, error);
  }

  claim(n: number): Promise<ClaimedJob[]> {
    return this.#claims.claim(n);
  }

  /** Events of what this call does must reach listeners already registered here. */
  async #front(): Promise<void> {
    if (this.#relay.ready !== undefined) {
      try {
        await this.#relay.ready;
      } catch (error) {
        throw this.link.coded(error);
      }
    }
  }

  get(jobId: string): Promise<JobResult | undefined> {
    const read = this.#front().then(() => readJob(this.link, this.#o.keys, jobId));
    this.#reads.add(read);
    const forget = () => this.#reads.delete(read);
    read.then(forget, forget);
    return read;
  }

  async list(q: ListQuery): Promise<JobResult[]> {
    await this.#front();
    return listJobs(this.link, this.#o.keys, q);
  }

  counts(): Promise<JobCounts> {
    return countJobs(this.link, this.#o.keys);
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
      throw this.link.coded(error);
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

  listWorkers(): Promise<WorkerInfo[]> {
    return this.#op(() => this.#fleet.list());
  }

  attach(runner: RunnerPort): void {
    this.#runner = runner;
    this.#member.join(() => [...runner.held()].length);
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
    this.#runner = undefined;
    await this.#upkeep?.stop();
    // A graceful stop leaves the fleet at once; a killed process after its TTL.
    await this.#member.leave();
  }

  async close(): Promise<void> {
    // Jobs this process finished last may have their events still on the
    // way: let whoever waits for them look once more before disconnecting.
    while (this.#reads.size > 0) await Promise.allSettled([...this.#reads]);
    this.#relay.stop();
    await this.link.close();
  }

  async settle(endings: readonly Ending[]): Promise<SettleReply> {
    const applied = await writeEndings(
      this.link.scripts,
      this.#o.keys,
      endings,
      this.#o.common.maxResultBytes,
    );
    this.#upkeep?.finished(applied.filter((a) => a !== undefined).length);
    return applied;
  }

  progress(job: ClaimedJob, value: unknown): void {
    this.#progress.report(job, value);
  }

  async handBack(jobs: readonly ClaimedJob[]): Promise<void> {
    await handBack(this.link.scripts, this.#o.keys, jobs);
  }
}
