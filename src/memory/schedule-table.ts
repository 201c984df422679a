import { decodeV8, encodeV8 } from "../codec.js";
import { firingJobId, nextTick, parseFiringJobId } from "../engine/schedule-spec.js";
import {
  type Firing,
  type ScheduleRecord,
  type ScheduleStore,
  sameTicks,
  specOf,
} from "../engine/schedule-store.js";

/** Options of {@link ScheduleTable}. */
export interface ScheduleTableOptions {
  /** A firing claimed but not acked for this long is handed out again. @default 30_000 */
  reclaimAfterMs?: number;
}

interface InFlight {
  scheduleId: string;
  fireAt: number;
  claimedAt: number;
}

/**
 * The in-memory {@link ScheduleStore}: a map of schedules. One process, one
 * event loop, so each method runs to its end without interleaving: a claim
 * cannot race another. Schedules are few, so finding the due ones is a scan.
 */
export class ScheduleTable implements ScheduleStore {
  readonly #schedules = new Map<string, ScheduleRecord>();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #reclaimAfterMs: number;

  constructor(options: ScheduleTableOptions = {}) {
    this.#reclaimAfterMs = options.reclaimAfterMs ?? 30_000;
  }

  encodeArgs(args: unknown[]): Uint8Array {
    return encodeV8(args);
  }

  decodeArgs(bytes: Uint8Array): unknown[] {
    return bytes.length === 0 ? [] : (decodeV8(bytes) as unknown[]);
  }

  async upsert(s: ScheduleRecord): Promise<void> {
    const old = this.#schedules.get(s.id);
    const next = { ...s };
    if (old !== undefined) {
      if (sameTicks(old, s)) next.nextRunAt = old.nextRunAt;
      if (old.lastJobId !== undefined) next.lastJobId = old.lastJobId;
      if (old.lastRunAt !== undefined) next.lastRunAt = old.lastRunAt;
    }
    this.#schedules.set(s.id, next);
  }

  async remove(id: string): Promise<boolean> {
    return this.#schedules.delete(id);
  }

  async list(): Promise<ScheduleRecord[]> {
    return [...this.#schedules.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((s) => ({ ...s }));
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const s = this.#schedules.get(id);
    return s === undefined ? undefined : { ...s };
  }

  async claimDue(now: number, limit: number): Promise<Firing[]> {
    const out: Firing[] = [];
    for (const [jobId, f] of this.#inFlight) {
      if (out.length >= limit) return out;
      if (f.claimedAt + this.#reclaimAfterMs > now) continue;
      const s = this.#schedules.get(f.scheduleId);
      if (s === undefined) {
        this.#inFlight.delete(jobId);
        continue;
      }
      f.claimedAt = now;
      out.push({ schedule: { ...s }, fireAt: f.fireAt, jobId });
    }
    const due = [...this.#schedules.values()]
      .filter((s) => s.nextRunAt <= now)
      .sort((a, b) => a.nextRunAt - b.nextRunAt);
    for (const s of due) {
      if (out.length >= limit) break;
      const fireAt = s.nextRunAt;
      s.nextRunAt = nextTick(specOf(s), now, fireAt);
      const jobId = firingJobId(s.id, fireAt);
      this.#inFlight.set(jobId, { scheduleId: s.id, fireAt, claimedAt: now });
      out.push({ schedule: { ...s }, fireAt, jobId });
    }
    return out;
  }

  async ack(firing: Firing): Promise<void> {
    if (!this.#inFlight.delete(firing.jobId)) return;
    const s = this.#schedules.get(parseFiringJobId(firing.jobId)?.scheduleId ?? "");
    if (s !== undefined && (s.lastRunAt === undefined || s.lastRunAt < firing.fireAt)) {
      s.lastJobId = firing.jobId;
      s.lastRunAt = firing.fireAt;
    }
  }

  async nextDueAt(): Promise<number | undefined> {
    let min: number | undefined;
    for (const s of this.#schedules.values())
      if (min === undefined || s.nextRunAt < min) min = s.nextRunAt;
    for (const f of this.#inFlight.values()) {
      const at = f.claimedAt + this.#reclaimAfterMs;
      if (min === undefined || at < min) min = at;
    }
    return min;
  }
}
