import { assertCloneable, assertPayloadSize, encodeMsgpack } from "../codec.js";
import { dependencyNotFound } from "../engine/dependencies.js";
import type { NewJob, StoredArgs } from "../engine/store.js";
import { ErrorCode, JobError, jobError } from "../errors.js";
import { ArgsEncoding } from "../executor/protocol.js";
import { type DependencyRecord, dependencyRefusal, packDependencies } from "./dependency-pack.js";
import { type EnqueueRecord, enqueuedIds, packEnqueues, readEnqueueReply } from "./packed.js";
import type { QueueKeys } from "./queue-keys.js";
import type { RedisLink } from "./redis-link.js";
import { waitForReplica } from "./replication.js";

/** Jobs per enqueue script call. */
const BATCH = 500;

/**
 * New jobs into Redis: one enqueue script call per batch. Enqueues made in
 * the same tick (a loop that does not await each one, Promise.all) share
 * one call, as enqueueMany would: one round trip for many jobs. Each job was
 * checked before; a Redis error fails the whole call, each caller with it.
 */
export class Enqueuer {
  readonly #link: RedisLink;
  readonly #keys: QueueKeys;
  /** `WAIT` for a replica after each call (`durability: "replicated"`), in ms. */
  readonly #replicationTimeoutMs: number | undefined;
  #batch: {
    row: EnqueueRecord;
    deps: DependencyRecord;
    resolve: (outcome: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];

  constructor(link: RedisLink, keys: QueueKeys, replicationTimeoutMs: number | undefined) {
    this.#link = link;
    this.#keys = keys;
    this.#replicationTimeoutMs = replicationTimeoutMs;
  }

  /** Stores the jobs; resolves with the id each caller gets (its own, or a dedupe key's holder). */
  async insert(jobs: NewJob[]): Promise<string[]> {
    try {
      return await this.#insert(jobs);
    } catch (error) {
      throw retrySafe(error, jobs);
    }
  }

  async #insert(jobs: NewJob[]): Promise<string[]> {
    const rows = jobs.map(toRecord);
    const deps = jobs.map((j) => ({ id: j.id, dependsOn: j.dependsOn ?? [] }));
    if (rows.length === 1) {
      const outcome = await new Promise<unknown>((resolve, reject) => {
        this.#batch.push({ row: rows[0]!, deps: deps[0]!, resolve, reject });
        if (this.#batch.length === 1) queueMicrotask(() => this.#writeBatch());
        else if (this.#batch.length >= BATCH) this.#writeBatch();
      });
      return [idOf(jobs[0]!.id, outcome)];
    }
    // Every dependency must exist before any job of the batch is stored
    // (the script checks again, atomically, for each job).
    await this.#checkDependencies(jobs);
    const ids: string[] = [];
    for (let i = 0; i < rows.length; i += BATCH) {
      const reply = await this.#enqueue(rows.slice(i, i + BATCH), deps.slice(i, i + BATCH));
      for (let j = 0; j < reply.length; j++) ids.push(idOf(jobs[i + j]!.id, reply[j]));
    }
    return ids;
  }

  async #checkDependencies(jobs: NewJob[]): Promise<void> {
    const batch = new Set(jobs.map((j) => j.id));
    const wanted = [...new Set(jobs.flatMap((j) => j.dependsOn ?? []))].filter(
      (d) => !batch.has(d),
    );
    if (wanted.length === 0) return;
    const found = await this.#link.command((c) =>
      Promise.all(wanted.map((d) => c.exists(this.#keys.job(d)))),
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
    const k = this.#keys;
    const args: Buffer[] = [packEnqueues(rows)];
    if (deps.some((d) => d.dependsOn.length > 0)) args.push(packDependencies(deps));
    const reply = (await this.#link.run(
      "enqueue",
      [k.ready, k.delayed, k.pending, k.seq],
      args,
    )) as unknown[];
    const waitMs = this.#replicationTimeoutMs;
    if (waitMs !== undefined) {
      await this.#link.command((c) => waitForReplica(c, k.ready, waitMs));
    }
    return reply;
  }
}

/** Arguments as Redis keeps them: msgpack, checked against structured clone and the size limit. */
export function encodeRedisArgs(args: unknown[], maxPayloadBytes: number): StoredArgs {
  if (args.length === 0) return { bytes: undefined, encoding: ArgsEncoding.NONE };
  // Primitives always clone; anything else is checked so the error names the argument.
  if (!args.every(isPrimitive)) assertCloneable(args);
  const bytes = encodeArgsMsgpack(args);
  assertPayloadSize(bytes.byteLength, maxPayloadBytes);
  return { bytes, encoding: ArgsEncoding.MSGPACK };
}

/** The id the caller gets for one job, or the coded refusal of its missing dependency. */
function idOf(id: string, outcome: unknown): string {
  const refused = dependencyRefusal(id, outcome);
  if (refused !== undefined) throw refused;
  return enqueuedIds([id], readEnqueueReply([outcome]))[0]!;
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

/**
 * msgpack bytes of checked arguments. Structured clone accepts nesting
 * deeper than msgpackr's recursion does (about 3,000 levels): that is a
 * coded refusal too, not a bare RangeError.
 */
function encodeArgsMsgpack(args: unknown[]): Buffer {
  try {
    return encodeMsgpack(args);
  } catch (error) {
    throw jobError(
      ErrorCode.ARGUMENT_NOT_CLONEABLE,
      `args cannot be encoded for Redis: ${error instanceof RangeError ? "they are nested too deeply (thousands of levels)" : (error as Error)?.message}; pass flatter plain data`,
      error,
    );
  }
}

/**
 * An enqueue whose reply did not arrive may still have been applied by
 * Redis: the unavailable error says that enqueueing again with the same
 * jobId is safe (an id that exists is left alone).
 */
function retrySafe(error: unknown, jobs: readonly NewJob[]): unknown {
  if (!(error instanceof JobError) || error.code !== ErrorCode.BACKEND_UNAVAILABLE) return error;
  const ids = jobs.slice(0, 3).map((j) => JSON.stringify(j.id));
  const which =
    jobs.length === 1 ? `job ${ids[0]}` : `jobs ${ids.join(", ")}${jobs.length > 3 ? ", …" : ""}`;
  return jobError(
    ErrorCode.BACKEND_UNAVAILABLE,
    `${error.message}. Redis may still have stored ${which}: enqueueing again with the same jobId is safe (an id that exists is left alone)`,
    error.cause,
  );
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol");
}
