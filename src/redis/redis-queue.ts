import { availableParallelism } from "node:os";
import type { EventEmitter } from "eventemitter3";
import type { Redis } from "ioredis";
import { assertCloneable, assertPayloadSize, decodeMsgpack, encodeMsgpack } from "../codec.js";
import { ErrorCode, type JobError, jobError } from "../errors.js";
import type { JobQueueEvents } from "../events.js";
import { defaultQueueIfExists } from "../get-queue.js";
import {
  type BulkJob,
  type CloseOptions,
  type EnqueueOptions,
  type JobCounts,
  JobQueue,
  type ListOptions,
  parseEnqueueOptions,
  parseListArgs,
  type TaskRef,
  taskName,
  type WaitOptions,
} from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import { JOB_STATUSES, type JobStatus } from "../job-status.js";
import { requireTask } from "../registry.js";
import { validateJobId } from "../validate.js";
import { createClient, ensureConnected, redactUrl, unavailable } from "./connection.js";
import { EventBus } from "./event-bus.js";
import { type EventRecord, parseEventMessage } from "./event-codec.js";
import { hashFromListed, jobResultFromHash } from "./job-record.js";
import { type EnqueueRecord, packEnqueues } from "./packed.js";
import type { QueueKeys } from "./queue-keys.js";
import {
  type ParsedRedisOptions,
  parseRedisOptions,
  type RedisQueueOptions,
} from "./redis-options.js";
import { RedisWorker } from "./redis-worker.js";
import { type ScriptArg, ScriptRunner } from "./scripts.js";

/** Jobs per enqueue script call. */
const BATCH = 500;
/** A job with no arguments stores none (the enqueue script writes no `a` field). */
const NO_ARGS = new Uint8Array(0);
const LISTENERS_TTL_MS = 60_000;

/** The kinds of event records each event is made from (see the scripts' event()). */
const KINDS: Readonly<Record<string, readonly string[]>> = {
  status: ["E", "S", "C", "F", "R", "X", "B"],
  enqueued: ["E"],
  started: ["S"],
  completed: ["C"],
  failed: ["F"],
  retrying: ["R"],
  cancelled: ["X"],
  progress: ["P"],
};
/** What `waitFor` needs: the records of the terminal transitions. */
const TERMINAL_KINDS = ["C", "F", "X"];

// The options each queue was built with, for `rapidai-jobs worker`, which
// builds a processing twin of a queue a task module made. Kept off the class
// so it is not public API.
const builtWith = new WeakMap<RedisQueue, RedisQueueOptions>();

/** The options a Redis queue was built with (a copy). */
export function redisQueueOptions(queue: RedisQueue): RedisQueueOptions {
  return { ...builtWith.get(queue) };
}
type Listener<T extends EventEmitter.EventNames<JobQueueEvents>> = EventEmitter.EventListener<
  JobQueueEvents,
  T
>;

/**
 * The durable queue: jobs live in Redis and survive restarts; any number of
 * processes on any number of machines enqueue, read and run them. Every
 * state change is one Lua script; workers hold renewable leases on the jobs
 * they run, so a job whose worker died runs again (at least once), and a
 * late answer from an expired lease is refused (fencing).
 *
 * Building one does no I/O and starts no thread: the connection opens at
 * first use, and the worker threads when the queue starts running jobs.
 */
export class RedisQueue extends JobQueue {
  readonly backend = "redis" as const;
  readonly #o: ParsedRedisOptions;
  #client: Redis | undefined;
  #scripts: ScriptRunner | undefined;
  #bus: EventBus | undefined;
  #worker: RedisWorker | undefined;
  #closing: Promise<void> | undefined;
  #policyChecked = false;
  #waiting = new Map<string, number>();
  /** Settles once the event kinds asked for so far are marked and the channel subscribed. */
  #eventsReady: Promise<void> | undefined;
  /** Kinds of event records this queue keeps wanted in Redis. */
  #kinds = new Set<string>();
  #listenerTimer: NodeJS.Timeout | undefined;
  /** Reads in flight, so close() lets them end before it disconnects. */
  #reads = new Set<Promise<unknown>>();

  constructor(options: RedisQueueOptions = {}) {
    super();
    this.#o = parseRedisOptions(options);
    builtWith.set(this, { ...options });
  }

  /** The key prefix. */
  get prefix(): string {
    return this.#o.keys.prefix;
  }

  /** The Redis URL, password hidden. */
  get url(): string {
    return redactUrl(this.#o.connection.url);
  }

  /** True when this queue runs jobs (not only enqueues and reads). */
  get processes(): boolean {
    return this.#o.process;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Worker threads this queue runs jobs on (whether or not they started yet). */
  get threads(): number {
    return this.#o.executor.threads ?? availableParallelism();
  }

  /** The keys and channels this queue uses. */
  get keys(): QueueKeys {
    return this.#o.keys;
  }

  protected override defaultBinding() {
    return defaultQueueIfExists();
  }

  // ---- connection -----------------------------------------------------------

  #connection(): { client: Redis; scripts: ScriptRunner } {
    if (this.#client === undefined) {
      const client = createClient(this.#o.connection, `rapidai:${this.prefix}`);
      this.#client = client;
      this.#scripts = new ScriptRunner(client, this.prefix);
      client.on("ready", () => {
        void this.#checkEvictionPolicy();
        // A restarted Redis may have lost the key.
        if (this.#listenerTimer !== undefined) void this.#markListening().catch(() => {});
      });
    }
    return { client: this.#client, scripts: this.#scripts! };
  }

  #eventBus(): EventBus {
    if (this.#bus === undefined) {
      this.#bus = new EventBus(this.#o.connection, `rapidai:${this.prefix}:sub`);
      this.#bus.onReconnect(() => {
        // Terminal events may have been missed while disconnected: look again.
        for (const jobId of this.#waiting.keys()) this.notifyTerminal(jobId, "completed");
      });
    }
    return this.#bus;
  }

  /** Connected (within the command timeout) and every asked-for subscription confirmed. */
  async #ready(): Promise<{ client: Redis; scripts: ScriptRunner }> {
    const c = this.#connection();
    if (this.#closing !== undefined && c.client.status === "end") throw closedError();
    try {
      await ensureConnected(c.client, this.#o.connection, this.#o.connection.commandTimeoutMs);
      // Events of what this call does must reach listeners already registered here.
      if (this.#eventsReady !== undefined) await this.#eventsReady;
    } catch (error) {
      throw unavailable(this.#o.connection, error);
    }
    return c;
  }

  async #run(
    name: Parameters<ScriptRunner["run"]>[0],
    keys: string[],
    args: ScriptArg[],
    buffers = false,
  ) {
    const { scripts } = await this.#ready();
    try {
      return await (buffers ? scripts.runBuffer(name, keys, args) : scripts.run(name, keys, args));
    } catch (error) {
      throw unavailable(this.#o.connection, error);
    }
  }

  async #checkEvictionPolicy(): Promise<void> {
    if (this.#policyChecked || this.#client === undefined) return;
    this.#policyChecked = true;
    const client = this.#client;
    let policy: string | undefined;
    try {
      const reply = (await client.config("GET", "maxmemory-policy")) as string[];
      policy = reply[1];
    } catch {
      try {
        const info = await client.info("memory");
        policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
      } catch {
        // Neither CONFIG nor INFO is allowed for this user: nothing to check with.
      }
    }
    if (policy !== undefined && policy !== "noeviction") {
      this.#o.worker.logger.warn(
        `rapidai: Redis at ${this.url} has maxmemory-policy "${policy}": it may evict job keys and lose jobs. ` +
          `Set maxmemory-policy to "noeviction".`,
      );
    }
  }

  // ---- events -----------------------------------------------------------------

  override on<T extends EventEmitter.EventNames<JobQueueEvents>>(
    event: T,
    fn: Listener<T>,
    context?: unknown,
  ): this {
    super.on(event, fn, context);
    this.#listen(event);
    return this;
  }

  override addListener<T extends EventEmitter.EventNames<JobQueueEvents>>(
    event: T,
    fn: Listener<T>,
    context?: unknown,
  ): this {
    return this.on(event, fn, context);
  }

  override once<T extends EventEmitter.EventNames<JobQueueEvents>>(
    event: T,
    fn: Listener<T>,
    context?: unknown,
  ): this {
    super.once(event, fn, context);
    this.#listen(event);
    return this;
  }

  #listen(event: string): void {
    const kinds = KINDS[event];
    if (kinds === undefined || this.#closing !== undefined) return;
    this.#subscribeEvents(kinds).catch(() => {
      // Redis is down: the next enqueue or wait reports it; the next listener tries again.
    });
  }

  /**
   * Subscribes to job events of these kinds. The scripts only build the
   * kinds of records some process wants (a key per kind), so the keys are
   * set first, and kept alive while this queue listens (they expire on their
   * own if this process dies).
   */
  #subscribeEvents(kinds: readonly string[]): Promise<void> {
    const fresh = kinds.filter((k) => !this.#kinds.has(k));
    if (fresh.length === 0 && this.#eventsReady !== undefined) return this.#eventsReady;
    for (const k of fresh) this.#kinds.add(k);
    const timeoutMs = this.#o.connection.commandTimeoutMs;
    const previous = this.#eventsReady ?? Promise.resolve();
    const p = previous
      .catch(() => {})
      .then(async () => {
        const { client } = this.#connection();
        await ensureConnected(client, this.#o.connection, timeoutMs);
        await this.#markListening();
        await this.#eventBus().subscribe(this.#o.keys.events, (m) => this.#onEvents(m), timeoutMs);
        this.#listenerTimer ??= setInterval(
          () => void this.#markListening().catch(() => {}),
          LISTENERS_TTL_MS / 3,
        );
        this.#listenerTimer.unref();
      });
    this.#eventsReady = p;
    p.catch(() => {
      if (this.#eventsReady === p) this.#eventsReady = undefined;
      for (const k of fresh) this.#kinds.delete(k);
    });
    return p;
  }

  async #markListening(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    await Promise.all(
      [...this.#kinds].map((k) => client.set(this.#o.keys.listen(k), "1", "PX", LISTENERS_TTL_MS)),
    );
  }

  #onEvents(message: Buffer): void {
    let records: EventRecord[];
    try {
      records = parseEventMessage(message);
    } catch (error) {
      this.emit("error", { error: error as Error });
      return;
    }
    for (const r of records) this.#emitRecord(r);
  }

  #emitRecord(r: EventRecord): void {
    const jobId = r.id;
    const task = r.task;
    if (r.kind === "P") {
      if (this.listenerCount("progress") > 0)
        this.emit("progress", { jobId, task, progress: decode(r.x1) });
      return;
    }
    const to = r.to as JobStatus;
    if (this.listenerCount("status") > 0) {
      const from = r.from === "" ? null : (r.from as JobStatus);
      this.emit("status", { jobId, task, from, to, attempts: r.attempts, at: r.at });
    }
    const text = (b: Buffer) => b.toString();
    switch (r.kind) {
      case "E":
        if (this.listenerCount("enqueued") > 0)
          this.emit("enqueued", { jobId, task, delayMs: Number(text(r.x1)) || 0 });
        break;
      case "S":
        if (this.listenerCount("started") > 0)
          this.emit("started", { jobId, task, attempt: r.attempts });
        break;
      case "C":
        if (this.listenerCount("completed") > 0) {
          this.emit("completed", {
            jobId,
            task,
            attempt: r.attempts,
            result: decode(r.x2),
            durationMs: Number(text(r.x1)) || 0,
          });
        }
        break;
      case "F":
        if (this.listenerCount("failed") > 0) {
          const code = text(r.x2);
          const duration = text(r.x3);
          this.emit("failed", {
            jobId,
            task,
            attempt: r.attempts,
            error: text(r.x1),
            ...(code === "" ? {} : { code }),
            ...(duration === "" ? {} : { durationMs: Number(duration) }),
          });
        }
        break;
      case "R":
        if (this.listenerCount("retrying") > 0) {
          const code = text(r.x2);
          this.emit("retrying", {
            jobId,
            task,
            attempt: r.attempts,
            error: text(r.x1),
            ...(code === "" ? {} : { code }),
            delayMs: Number(text(r.x3)) || 0,
          });
        }
        break;
      case "X":
        if (this.listenerCount("cancelled") > 0)
          this.emit("cancelled", { jobId, task, attempts: r.attempts });
        break;
    }
    if (to === "completed" || to === "failed" || to === "cancelled") this.notifyTerminal(jobId, to);
  }

  override async waitFor<T = unknown>(
    jobId: string,
    options: WaitOptions = {},
  ): Promise<JobResult<T>> {
    // Subscribe before the first look, so the terminal event cannot slip between.
    try {
      await this.#subscribeEvents(TERMINAL_KINDS);
    } catch (error) {
      throw unavailable(this.#o.connection, error);
    }
    this.#waiting.set(jobId, (this.#waiting.get(jobId) ?? 0) + 1);
    try {
      return await super.waitFor<T>(jobId, options);
    } finally {
      const n = (this.#waiting.get(jobId) ?? 1) - 1;
      if (n <= 0) this.#waiting.delete(jobId);
      else this.#waiting.set(jobId, n);
    }
  }

  // ---- the queue contract -------------------------------------------------------

  async enqueue(
    jobId: string,
    task: TaskRef,
    args: unknown[],
    options?: EnqueueOptions,
  ): Promise<string> {
    if (this.#closing !== undefined) throw closedError();
    const row = this.#encodeJob(
      options === undefined ? { jobId, task, args } : { jobId, task, args, options },
    );
    // Enqueues made in the same tick (a loop that does not await each one,
    // Promise.all) share one script call, as enqueueMany would: one round
    // trip for many jobs. Each job was checked above, so a bad one fails
    // alone; a Redis error fails the whole batch, each caller with it.
    await new Promise<void>((resolve, reject) => {
      this.#batch.push({ row, resolve, reject });
      if (this.#batch.length === 1) queueMicrotask(() => this.#writeBatch());
      else if (this.#batch.length >= BATCH) this.#writeBatch();
    });
    if (this.#o.process && this.#worker === undefined && this.#closing === undefined)
      await this.start();
    return jobId;
  }

  #batch: { row: EnqueueRecord; resolve: () => void; reject: (error: unknown) => void }[] = [];

  #writeBatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    const k = this.#o.keys;
    const packed = packEnqueues(batch.map((b) => b.row));
    this.#run("enqueue", [k.ready, k.delayed, k.pending, k.seq], [packed]).then(
      () => {
        for (const b of batch) b.resolve();
      },
      (error) => {
        for (const b of batch) b.reject(error);
      },
    );
  }

  async enqueueMany(jobs: readonly BulkJob[]): Promise<string[]> {
    if (this.#closing !== undefined) throw closedError();
    if (!Array.isArray(jobs)) throw jobError(ErrorCode.INVALID_OPTION, "`jobs` must be an array");
    const rows: EnqueueRecord[] = [];
    for (const job of jobs) rows.push(this.#encodeJob(job));
    const k = this.#o.keys;
    for (let i = 0; i < rows.length; i += BATCH) {
      const packed = packEnqueues(rows.slice(i, i + BATCH));
      await this.#run("enqueue", [k.ready, k.delayed, k.pending, k.seq], [packed]);
    }
    if (this.#o.process && this.#worker === undefined && this.#closing === undefined)
      await this.start();
    return jobs.map((j) => j.jobId);
  }

  #encodeJob(job: BulkJob): EnqueueRecord {
    if (job === null || typeof job !== "object")
      throw jobError(ErrorCode.INVALID_OPTION, "each job must be an object");
    const def = requireTask(taskName(job.task));
    const opts = job.options === undefined ? undefined : parseEnqueueOptions(job.options);
    validateJobId(job.jobId);
    const args = job.args;
    if (!Array.isArray(args)) throw jobError(ErrorCode.INVALID_OPTION, "`args` must be an array");
    let bytes: Uint8Array = NO_ARGS;
    if (args.length > 0) {
      // Primitives always clone; anything else is checked so the error names the argument.
      if (!args.every(isPrimitive)) assertCloneable(args);
      bytes = encodeMsgpack(args);
      assertPayloadSize(bytes.byteLength, this.#o.maxPayloadBytes);
    }
    return {
      id: job.jobId,
      task: def.name,
      args: bytes,
      maxRetries: opts?.maxRetries ?? def.maxRetries,
      priority: opts?.priority ?? 0,
      delayMs: Math.ceil(opts?.delayMs ?? 0),
    };
  }

  getResult<T = unknown>(jobId: string): Promise<JobResult<T> | undefined> {
    const read = this.#getResult<T>(jobId);
    this.#reads.add(read);
    const forget = () => this.#reads.delete(read);
    read.then(forget, forget);
    return read;
  }

  async #getResult<T>(jobId: string): Promise<JobResult<T> | undefined> {
    if (typeof jobId !== "string" || jobId.length === 0) return undefined;
    const { client } = await this.#ready();
    let h: Record<string, Buffer>;
    try {
      h = await client.hgetallBuffer(this.#o.keys.job(jobId));
    } catch (error) {
      throw unavailable(this.#o.connection, error);
    }
    return jobResultFromHash(jobId, h, true) as JobResult<T> | undefined;
  }

  async cancel(jobId: string): Promise<boolean> {
    if (typeof jobId !== "string" || jobId.length === 0) return false;
    const k = this.#o.keys;
    const r = (await this.#run(
      "cancel",
      [k.ready, k.delayed, k.pending, k.cancelled, k.done],
      [jobId],
    )) as number;
    if (r === 0) return false;
    if (r === 2) {
      // Running: stop it here if this process runs it (the control message
      // reaches other processes), and resolve once it has stopped.
      this.#worker?.cancelLocal(jobId);
      const bound = (this.#o.executor.cancelGraceMs ?? 1000) + 2000;
      await this.waitFor(jobId, { timeoutMs: bound }).catch(() => {});
    }
    return true;
  }

  async listJobs(status?: JobStatus, options?: ListOptions): Promise<JobResult[]> {
    const q = parseListArgs(status, options);
    const limit = q.limit === Number.POSITIVE_INFINITY ? -1 : q.limit;
    if (limit === 0) return [];
    const reply = (await this.#run(
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

  async countJobs(): Promise<JobCounts> {
    const { client } = await this.#ready();
    try {
      const counts = await Promise.all(this.#o.keys.statuses.map((key) => client.zcard(key)));
      return Object.fromEntries(JOB_STATUSES.map((s, i) => [s, counts[i]!])) as JobCounts;
    } catch (error) {
      throw unavailable(this.#o.connection, error);
    }
  }

  /**
   * Starts running jobs: claims them in batches and runs them on the worker
   * threads. Does not wait for Redis: while it is unreachable the worker
   * keeps trying and resumes when it is back.
   */
  async start(): Promise<void> {
    if (this.#closing !== undefined) throw closedError();
    if (!this.#o.process) {
      throw jobError(
        ErrorCode.NOT_A_WORKER,
        "this RedisQueue was built with `process: false`: it only enqueues and reads",
      );
    }
    if (this.#worker !== undefined) return;
    const { client, scripts } = this.#connection();
    if (client.status === "wait") client.connect().catch(() => {});
    const worker = new RedisWorker({
      keys: this.#o.keys,
      scripts,
      client,
      bus: this.#eventBus(),
      executor: this.#o.executor,
      settings: this.#o.worker,
      subscribeTimeoutMs: this.#o.connection.commandTimeoutMs,
      error: (error) => {
        this.#o.worker.logger.warn(`rapidai: ${error.message}`);
        this.emit("error", { error });
      },
    });
    this.#worker = worker;
    worker.start();
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<void> {
    await this.#worker?.close(options.timeoutMs);
    // Jobs this process finished last may have their events still on the
    // way: let whoever waits for them look once more before disconnecting.
    for (const jobId of this.#waiting.keys()) this.notifyTerminal(jobId, "completed");
    while (this.#reads.size > 0) await Promise.allSettled([...this.#reads]);
    clearInterval(this.#listenerTimer);
    await this.#bus?.close();
    const client = this.#client;
    if (client !== undefined) {
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
  }
}

function closedError(): JobError {
  return jobError(ErrorCode.QUEUE_CLOSED, "the queue is closed: it takes no new jobs");
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol");
}

function decode(b: Buffer): unknown {
  if (b.length === 0) return undefined;
  try {
    return decodeMsgpack(b);
  } catch {
    return undefined;
  }
}
