import { decodeMsgpack } from "../codec.js";
import type { ChangeSink } from "../engine/change-sink.js";
import type { Change, ChangeKind } from "../engine/changes.js";
import type { JobStatus } from "../job-status.js";
import { type ConnectionSettings, ensureConnected, type RedisClient } from "./connection.js";
import type { EventBus } from "./event-bus.js";
import { type EventRecord, parseEventMessage } from "./event-codec.js";
import type { QueueKeys } from "./queue-keys.js";

/** The record kinds each event is made from (see the scripts' event()). */
const KINDS: Readonly<Record<string, readonly string[]>> = {
  status: ["E", "S", "C", "F", "R", "X", "B", "T"],
  enqueued: ["E"],
  started: ["S"],
  completed: ["C"],
  failed: ["F"],
  retrying: ["R"],
  cancelled: ["X"],
  progress: ["P"],
  retried: ["T"],
  paused: ["Z"],
  resumed: ["U"],
  // Not a public event: one record per script call in which jobs ended or
  // went back to pending, for onIdle(), which needs no per-job records.
  idle: ["I"],
};

/** What a record of each kind is as a change. */
const CHANGE_OF: Readonly<Record<string, ChangeKind>> = {
  E: "enqueued",
  S: "started",
  C: "completed",
  F: "failed",
  R: "retrying",
  X: "cancelled",
  B: "requeued",
  T: "retried",
};

const LISTENERS_TTL_MS = 60_000;

/**
 * Brings the changes of every process to this one. The scripts publish a
 * record of each change, atomically with it, but only of the kinds some
 * process listens to: a key per kind says so, kept alive while this process
 * listens (it expires on its own if the process dies). Records become the
 * same {@link Change} the in-memory store reports, so the queue builds the
 * same events from both.
 */
export class EventRelay {
  readonly #keys: QueueKeys;
  readonly #connection: ConnectionSettings;
  readonly #client: () => RedisClient;
  readonly #bus: () => EventBus;
  readonly #sink: ChangeSink;
  /** Kinds of records this process keeps wanted in Redis. */
  readonly #kinds = new Set<string>();
  /** Settles once the kinds asked for so far are marked and the channel subscribed. */
  #ready: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    keys: QueueKeys,
    connection: ConnectionSettings,
    client: () => RedisClient,
    bus: () => EventBus,
    sink: ChangeSink,
  ) {
    this.#keys = keys;
    this.#connection = connection;
    this.#client = client;
    this.#bus = bus;
    this.#sink = sink;
  }

  /** The subscriptions asked for so far, once confirmed (undefined: none asked). */
  get ready(): Promise<void> | undefined {
    return this.#ready;
  }

  /** Makes records of these events reach this process; resolves once they will. */
  listen(events: readonly string[]): Promise<void> {
    const fresh = events.flatMap((e) => KINDS[e] ?? []).filter((k) => !this.#kinds.has(k));
    if (fresh.length === 0 && this.#ready !== undefined) return this.#ready;
    for (const k of fresh) this.#kinds.add(k);
    const timeoutMs = this.#connection.commandTimeoutMs;
    const previous = this.#ready ?? Promise.resolve();
    const p = previous
      .catch(() => {})
      .then(async () => {
        await ensureConnected(this.#client(), this.#connection, timeoutMs);
        await this.mark();
        await this.#bus().subscribe(this.#keys.events, (m) => this.#onMessage(m), timeoutMs);
        this.#timer ??= setInterval(() => void this.mark().catch(() => {}), LISTENERS_TTL_MS / 3);
        this.#timer.unref();
      });
    this.#ready = p;
    p.catch(() => {
      if (this.#ready === p) this.#ready = undefined;
      for (const k of fresh) this.#kinds.delete(k);
    });
    return p;
  }

  /** Marks the wanted kinds again (a restarted Redis may have lost the keys). */
  async mark(): Promise<void> {
    if (this.#kinds.size === 0) return;
    const client = this.#client();
    await Promise.all(
      [...this.#kinds].map((k) => client.set(this.#keys.listen(k), "1", "PX", LISTENERS_TTL_MS)),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #onMessage(message: Buffer): void {
    let records: EventRecord[];
    try {
      records = parseEventMessage(message);
    } catch (error) {
      this.#sink.error(error as Error);
      return;
    }
    for (const r of records) this.#relay(r);
  }

  #relay(r: EventRecord): void {
    if (r.kind === "P") this.#sink.progress(r.id, r.task, decode(r.x1));
    else if (r.kind === "Z" || r.kind === "U") this.#sink.paused(r.kind === "Z", r.at);
    else if (r.kind === "I") this.#sink.ended();
    else {
      const kind = CHANGE_OF[r.kind];
      if (kind !== undefined) this.#sink.change(changeOf(kind, r));
    }
  }
}

function changeOf(kind: ChangeKind, r: EventRecord): Change {
  const text = (b: Buffer) => b.toString();
  const c: Change = {
    kind,
    jobId: r.id,
    task: r.task,
    from: r.from === "" ? null : (r.from as JobStatus),
    to: r.to as JobStatus,
    attempts: r.attempts,
    at: r.at,
  };
  switch (kind) {
    case "enqueued":
      c.delayMs = Number(text(r.x1)) || 0;
      break;
    case "completed":
      c.result = decode(r.x2);
      c.durationMs = Number(text(r.x1)) || 0;
      break;
    case "failed": {
      c.error = text(r.x1);
      c.code = text(r.x2);
      const duration = text(r.x3);
      if (duration !== "") c.durationMs = Number(duration);
      break;
    }
    case "retrying":
      c.error = text(r.x1);
      c.code = text(r.x2);
      c.delayMs = Number(text(r.x3)) || 0;
      break;
  }
  return c;
}

function decode(b: Buffer): unknown {
  if (b.length === 0) return undefined;
  try {
    return decodeMsgpack(b);
  } catch {
    return undefined;
  }
}
