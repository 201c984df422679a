/**
 * The three batches that cross the wire for every job, packed into one
 * binary string each instead of several script arguments or reply elements
 * per job: the enqueue script's input (new jobs), the claim script's reply
 * (jobs claimed) and the complete script's input (attempts that ended well). Each field is a big-endian length or number
 * followed by its bytes, the layout of Lua's `struct` formats `>Hc0` and
 * `>I4c0` (a 16- or 32-bit length, then that many bytes), `>I4` and `>i4`
 * (32-bit numbers) and `>d` (a double),
 * which the scripts read and write in one call per job. Per job, this saves
 * ioredis and the reply parser several small strings or Buffers, and the
 * garbage collector their collection.
 */

/** One new job as the enqueue script takes it. */
export interface EnqueueRecord {
  id: string;
  task: string;
  /** msgpack arguments; empty for none. */
  args: Uint8Array;
  maxRetries: number;
  priority: number;
  delayMs: number;
  /** This job's attempt timeout in ms (1 to 2^31 - 1); undefined: the task's. */
  timeoutMs?: number | undefined;
  /**
   * Store nothing while a job holding `key` is pending or running, or
   * within `ttlMs` of its creation: the script answers with that job's id.
   */
  dedupe?: { key: string; ttlMs: number } | undefined;
  /** The enqueue's trace context (OpenTelemetry), JSON; undefined when nothing traces. */
  trace?: string | undefined;
}

/**
 * Packs new jobs for the enqueue script (Lua `>Hc0I4c0I4c0I4i4dI4Hc0dI4c0` per
 * job: id, task, args, maxRetries, priority, delayMs, timeoutMs (0 for the
 * task's), dedupe key (empty for none), dedupe ttl ms, trace context (JSON, empty for none)).
 */
export function packEnqueues(records: readonly EnqueueRecord[]): Buffer {
  return packEach(
    records,
    (r) =>
      2 +
      Buffer.byteLength(r.id) +
      4 +
      Buffer.byteLength(r.task) +
      4 +
      r.args.length +
      16 +
      4 +
      2 +
      (r.dedupe === undefined ? 0 : Buffer.byteLength(r.dedupe.key)) +
      8 +
      4 +
      (r.trace === undefined ? 0 : Buffer.byteLength(r.trace)),
    (blob, at, r) => {
      let pos = writeString(blob, at, r.id, 2);
      pos = writeString(blob, pos, r.task, 4);
      pos = blob.writeUInt32BE(r.args.length, pos);
      blob.set(r.args, pos);
      pos = blob.writeUInt32BE(r.maxRetries, pos + r.args.length);
      pos = blob.writeInt32BE(r.priority, pos);
      pos = blob.writeDoubleBE(r.delayMs, pos);
      pos = blob.writeUInt32BE(r.timeoutMs ?? 0, pos);
      pos = writeString(blob, pos, r.dedupe?.key ?? "", 2);
      pos = blob.writeDoubleBE(r.dedupe?.ttlMs ?? 0, pos);
      return writeString(blob, pos, r.trace ?? "", 4);
    },
  );
}

/**
 * What the enqueue script did with each job, in order: `stored`, `existed`
 * (a job with that id was there; nothing changed) or `deduped` (its dedupe
 * key led to the job `to`; nothing stored).
 */
export type EnqueueOutcome =
  | { kind: "stored" }
  | { kind: "existed" }
  | { kind: "deduped"; to: string };

const STORED: EnqueueOutcome = Object.freeze({ kind: "stored" });
const EXISTED: EnqueueOutcome = Object.freeze({ kind: "existed" });

/** Reads the enqueue script's reply: 1 stored, 0 existed, a string: the job id deduplicated to. */
export function readEnqueueReply(reply: readonly unknown[]): EnqueueOutcome[] {
  return reply.map((v) => {
    if (v === 1) return STORED;
    if (v === 0) return EXISTED;
    return { kind: "deduped", to: Buffer.isBuffer(v) ? v.toString() : String(v) };
  });
}

/**
 * The id each caller gets back for its job: its own, or for a deduplicated
 * job the id of the job that holds the key.
 */
export function enqueuedIds(ids: readonly string[], outcomes: readonly EnqueueOutcome[]): string[] {
  return ids.map((id, i) => {
    const o = outcomes[i];
    return o?.kind === "deduped" ? o.to : id;
  });
}

/** One job as the claim script hands it over. */
export interface ClaimedRecord {
  id: string;
  task: string;
  /** msgpack arguments, a copy (undefined when the job has none). */
  args: Uint8Array | undefined;
  attempt: number;
  /**
   * The effective budget: the job's maxRetries plus the attempts it had when
   * it was last retried by hand, so `attempt > maxRetries` means no retry is left.
   */
  maxRetries: number;
  /** This job's attempt timeout in ms; undefined: the task's. */
  timeoutMs: number | undefined;
  /** The jobs it depended on (`dependsOn`). */
  dependsOn: string[] | undefined;
  /** The trace context its enqueue stored. */
  trace: Record<string, string> | undefined;
}

/**
 * Reads the claim script's packed jobs (Lua `>Hc0I4c0I4c0I4I4I4` per job: id,
 * task, args, attempt, maxRetries, timeoutMs (0 for the task's), the ids of
 * its dependencies, comma-separated (empty for none)).
 */
/** The comma-separated dependency ids at `pos` (after their 32-bit length), or undefined for none. */
function dependsOnOf(blob: Buffer, pos: number): string[] | undefined {
  const length = blob.readUInt32BE(pos);
  return length === 0 ? undefined : blob.toString("utf8", pos + 4, pos + 4 + length).split(",");
}

/** The trace carrier at `pos` (JSON after its 32-bit length), or undefined for none. */
function traceOf(blob: Buffer, pos: number): Record<string, string> | undefined {
  const length = blob.readUInt32BE(pos);
  if (length === 0) return undefined;
  try {
    return JSON.parse(blob.toString("utf8", pos + 4, pos + 4 + length)) as Record<string, string>;
  } catch {
    return undefined;
  }
}

export function unpackClaims(blob: Buffer): ClaimedRecord[] {
  const out: ClaimedRecord[] = [];
  let pos = 0;
  while (pos < blob.length) {
    const idEnd = pos + 2 + blob.readUInt16BE(pos);
    const id = blob.toString("utf8", pos + 2, idEnd);
    // A task name has no length limit: a 32-bit length.
    const taskEnd = idEnd + 4 + blob.readUInt32BE(idEnd);
    const task = blob.toString("utf8", idEnd + 4, taskEnd);
    const argsEnd = taskEnd + 4 + blob.readUInt32BE(taskEnd);
    const depsEnd = argsEnd + 16 + blob.readUInt32BE(argsEnd + 12);
    out.push({
      id,
      task,
      // A copy: a view would keep the whole reply alive and drag it through
      // the structured clone to the worker thread.
      args:
        argsEnd === taskEnd + 4 ? undefined : new Uint8Array(blob.subarray(taskEnd + 4, argsEnd)),
      attempt: blob.readUInt32BE(argsEnd),
      maxRetries: blob.readUInt32BE(argsEnd + 4),
      timeoutMs: blob.readUInt32BE(argsEnd + 8) || undefined,
      dependsOn: dependsOnOf(blob, argsEnd + 12),
      trace: traceOf(blob, depsEnd),
    });
    pos = depsEnd + 4 + blob.readUInt32BE(depsEnd);
  }
  return out;
}

/** One attempt that ended well, as the complete script takes it. */
export interface CompletionRecord {
  id: string;
  token: string;
  /** msgpack bytes of the result as a latin1 string (one character per byte); empty for undefined. */
  result: string;
  durationMs: number;
}

/** Packs attempts for the complete script (Lua `>Hc0Hc0I4c0I4` per job). */
export function packCompletions(records: readonly CompletionRecord[]): Buffer {
  return packEach(
    records,
    (r) => 2 + Buffer.byteLength(r.id) + 2 + Buffer.byteLength(r.token) + 4 + r.result.length + 4,
    (blob, at, r) => {
      let pos = writeString(blob, at, r.id, 2);
      pos = writeString(blob, pos, r.token, 2);
      pos = blob.writeUInt32BE(r.result.length, pos);
      pos += blob.write(r.result, pos, "latin1");
      return blob.writeUInt32BE(Math.min(Math.max(Math.round(r.durationMs), 0), 0xffffffff), pos);
    },
  );
}

/** One buffer of exactly the records' size, each written after the one before. */
function packEach<T>(
  records: readonly T[],
  size: (record: T) => number,
  write: (blob: Buffer, pos: number, record: T) => number,
): Buffer {
  let total = 0;
  for (const r of records) total += size(r);
  const blob = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const r of records) pos = write(blob, pos, r);
  return blob;
}

/** Writes a UTF-8 string after its length, in `lengthBytes` (2 or 4) bytes. */
function writeString(blob: Buffer, pos: number, value: string, lengthBytes: 2 | 4): number {
  const length = blob.write(value, pos + lengthBytes);
  if (lengthBytes === 2) blob.writeUInt16BE(length, pos);
  else blob.writeUInt32BE(length, pos);
  return pos + lengthBytes + length;
}
