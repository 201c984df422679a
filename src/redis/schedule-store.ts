import { assertCloneable, decodeMsgpack, encodeMsgpack } from "../codec.js";
import { firingJobId, nextTick, parseFiringJobId } from "../engine/schedule-spec.js";
import {
  type Firing,
  type ScheduleRecord,
  type ScheduleStore,
  specOf,
} from "../engine/schedule-store.js";
import type { RedisClient } from "./connection.js";
import type { QueueKeys } from "./queue-keys.js";
import type { ScriptRunner } from "./scripts.js";

/** Options of {@link RedisScheduleStore}. */
export interface RedisScheduleStoreOptions {
  /** A firing claimed but not acked for this long is handed out again. @default 30_000 */
  reclaimAfterMs?: number;
  /**
   * Resolves once the client is connected (the queue's link connects lazily
   * and queues no command while offline). @default none: the client is ready
   */
  ready?: () => Promise<unknown>;
}

/** The hash fields of a schedule, in the order they are read. */
const FIELDS = ["t", "c", "z", "e", "a", "n", "j", "r"] as const;

/**
 * The Redis {@link ScheduleStore}. A schedule is a hash `schedule:<id>`
 * indexed by its next tick in the `schedules` sorted set; claimed firings
 * wait in `schedule-firings` until acked. `claimDue` reads the due
 * schedules, computes each next tick with croner, and wins a tick only
 * through the compare-and-set of claim-firings-2.lua (see
 * docs/scheduling.md).
 */
export class RedisScheduleStore implements ScheduleStore {
  readonly #client: RedisClient;
  readonly #keys: QueueKeys;
  readonly #scripts: ScriptRunner;
  readonly #reclaimAfterMs: number;
  readonly #ready: (() => Promise<unknown>) | undefined;

  constructor(
    client: RedisClient,
    keys: QueueKeys,
    scripts: ScriptRunner,
    options: RedisScheduleStoreOptions = {},
  ) {
    this.#client = client;
    this.#keys = keys;
    this.#scripts = scripts;
    this.#reclaimAfterMs = options.reclaimAfterMs ?? 30_000;
    this.#ready = options.ready;
  }

  /** The client, once connected. */
  async #redis(): Promise<RedisClient> {
    if (this.#ready !== undefined) await this.#ready();
    return this.#client;
  }

  /** The scripts, once connected. */
  async #run(...[name, keys, args]: Parameters<ScriptRunner["run"]>): Promise<unknown> {
    if (this.#ready !== undefined) await this.#ready();
    return this.#scripts.run(name, keys, args);
  }

  encodeArgs(args: unknown[]): Uint8Array {
    assertCloneable(args);
    return encodeMsgpack(args);
  }

  decodeArgs(bytes: Uint8Array): unknown[] {
    return bytes.length === 0 ? [] : (decodeMsgpack(bytes) as unknown[]);
  }

  async upsert(s: ScheduleRecord): Promise<void> {
    await this.#run(
      "upsertSchedule",
      [this.#keys.schedules],
      [
        s.id,
        s.task,
        s.cron ?? "",
        s.tz ?? "",
        s.everyMs === undefined ? "" : String(s.everyMs),
        Buffer.from(s.args.buffer, s.args.byteOffset, s.args.byteLength),
        String(s.nextRunAt),
      ],
    );
  }

  async remove(id: string): Promise<boolean> {
    return (await this.#run("removeSchedule", [this.#keys.schedules], [id])) === 1;
  }

  async list(): Promise<ScheduleRecord[]> {
    const ids = (await (await this.#redis()).zrange(this.#keys.schedules, 0, -1)).sort();
    const records = await this.#read(ids);
    return records.filter((r): r is ScheduleRecord => r !== undefined);
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    return (await this.#read([id]))[0];
  }

  async claimDue(now: number, limit: number): Promise<Firing[]> {
    const k = this.#keys;
    const replies = await (await this.#redis())
      .pipeline()
      .zrangebyscore(k.schedules, "-inf", now, "WITHSCORES", "LIMIT", 0, limit)
      .zrangebyscore(
        k.scheduleFirings,
        "-inf",
        now - this.#reclaimAfterMs,
        "WITHSCORES",
        "LIMIT",
        0,
        limit,
      )
      .exec();
    const due = pairs(replies?.[0]?.[1]);
    const stale = pairs(replies?.[1]?.[1]);
    if (due.length === 0 && stale.length === 0) return [];

    const staleFirings = stale.flatMap(([jobId, claimedAt]) => {
      const parsed = parseFiringJobId(jobId);
      return parsed === undefined ? [] : [{ jobId, claimedAt, ...parsed }];
    });
    const ids = [...new Set([...due.map(([id]) => id), ...staleFirings.map((f) => f.scheduleId)])];
    const read = await this.#read(ids);
    const byId = new Map<string, ScheduleRecord>();
    for (const r of read) if (r !== undefined) byId.set(r.id, r);

    // Candidates, in the order of the script's replies.
    const asks: (string | number)[] = [];
    const candidates: Firing[] = [];
    for (const [id, seen] of due) {
      const s = byId.get(id);
      if (s === undefined) continue;
      const next = nextTick(specOf(s), now, seen);
      asks.push("f", id, seen, next);
      candidates.push({
        schedule: { ...s, nextRunAt: next },
        fireAt: seen,
        jobId: firingJobId(id, seen),
      });
    }
    for (const f of staleFirings) {
      const s = byId.get(f.scheduleId);
      if (s === undefined) {
        // Unscheduled while in flight: drop the firing.
        await this.ack({ schedule: emptyRecord(f.scheduleId), fireAt: f.fireAt, jobId: f.jobId });
        continue;
      }
      asks.push("r", f.jobId, f.claimedAt, "");
      candidates.push({ schedule: s, fireAt: f.fireAt, jobId: f.jobId });
    }
    if (candidates.length === 0) return [];
    const won = (await this.#run(
      "claimFirings",
      [k.schedules, k.scheduleFirings],
      [now, candidates.length, ...asks],
    )) as number[];
    return candidates.filter((_, i) => won[i] === 1);
  }

  async ack(firing: Firing): Promise<void> {
    await this.#run(
      "ackFiring",
      [this.#keys.scheduleFirings],
      [firing.jobId, firing.schedule.id, firing.fireAt],
    );
  }

  async nextDueAt(): Promise<number | undefined> {
    const k = this.#keys;
    const replies = await (await this.#redis())
      .pipeline()
      .zrange(k.schedules, 0, 0, "WITHSCORES")
      .zrange(k.scheduleFirings, 0, 0, "WITHSCORES")
      .exec();
    const tick = pairs(replies?.[0]?.[1])[0]?.[1];
    const claimed = pairs(replies?.[1]?.[1])[0]?.[1];
    const reclaim = claimed === undefined ? undefined : claimed + this.#reclaimAfterMs;
    if (tick === undefined) return reclaim;
    return reclaim === undefined ? tick : Math.min(tick, reclaim);
  }

  async #read(ids: readonly string[]): Promise<(ScheduleRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const pipe = (await this.#redis()).pipeline();
    for (const id of ids) pipe.hmgetBuffer(this.#keys.schedule(id), ...FIELDS);
    const replies = (await pipe.exec()) ?? [];
    return ids.map((id, i) => {
      const [error, value] = replies[i] ?? [];
      if (error) throw error;
      return toRecord(id, value as (Buffer | null)[]);
    });
  }
}

/** `[member, score, member, score, ...]` as pairs with numeric scores. */
function pairs(reply: unknown): [string, number][] {
  const flat = (reply ?? []) as string[];
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

function toRecord(id: string, f: (Buffer | null)[]): ScheduleRecord | undefined {
  const [t, c, z, e, a, n, j, r] = f;
  if (t === null || t === undefined || n === null || n === undefined) return undefined;
  const text = (b: Buffer | null | undefined) =>
    b === null || b === undefined ? "" : b.toString();
  const out: ScheduleRecord = {
    id,
    task: text(t),
    args: a === null || a === undefined ? new Uint8Array(0) : new Uint8Array(a),
    nextRunAt: Number(text(n)),
  };
  if (text(c) !== "") out.cron = text(c);
  if (text(z) !== "") out.tz = text(z);
  if (text(e) !== "") out.everyMs = Number(text(e));
  if (text(j) !== "") out.lastJobId = text(j);
  if (text(r) !== "") out.lastRunAt = Number(text(r));
  return out;
}

function emptyRecord(id: string): ScheduleRecord {
  return { id, task: "", args: new Uint8Array(0), nextRunAt: 0 };
}
