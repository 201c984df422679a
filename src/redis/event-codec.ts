import { ErrorCode, jobError } from "../errors.js";

/**
 * The job-event records the Lua scripts publish, all records of one script
 * call in one message. Each record is a list of netstrings (`<len>:<bytes>,`):
 * first the number of fields, then the fields. Netstrings carry binary
 * results and progress values as they are, and a record with more fields
 * than this reader knows still parses.
 */
export interface EventRecord {
  /**
   * E enqueued, S started, C completed, F failed, R retrying, X cancelled, B
   * handed back, P progress, T retried by hand (from failed or cancelled, to
   * pending), Z paused and U resumed (no job: id, task, from, to empty).
   */
  kind: string;
  id: string;
  task: string;
  from: string;
  to: string;
  attempts: number;
  at: number;
  /** Kind-specific fields, raw (see the scripts). */
  x1: Buffer;
  x2: Buffer;
  x3: Buffer;
}

const COLON = 0x3a;
const COMMA = 0x2c;
const EMPTY = Buffer.alloc(0);

function corrupt(): never {
  throw jobError(ErrorCode.PAYLOAD_CORRUPT, "malformed event message on the events channel");
}

/** Parses one events message into its records. */
export function parseEventMessage(buf: Buffer): EventRecord[] {
  const records: EventRecord[] = [];
  let pos = 0;
  const next = (): Buffer => {
    let len = 0;
    let digits = 0;
    while (pos < buf.length && buf[pos] !== COLON) {
      const d = buf[pos]! - 0x30;
      if (d < 0 || d > 9 || ++digits > 10) corrupt();
      len = len * 10 + d;
      pos++;
    }
    if (digits === 0 || buf[pos] !== COLON) corrupt();
    const start = pos + 1;
    const end = start + len;
    if (end >= buf.length + 1 || buf[end] !== COMMA) corrupt();
    pos = end + 1;
    return buf.subarray(start, end);
  };
  while (pos < buf.length) {
    const count = Number(next().toString("latin1"));
    if (!Number.isInteger(count) || count < 7) corrupt();
    const f: Buffer[] = [];
    for (let i = 0; i < count; i++) f.push(next());
    records.push({
      kind: f[0]!.toString("latin1"),
      id: f[1]!.toString(),
      task: f[2]!.toString(),
      from: f[3]!.toString("latin1"),
      to: f[4]!.toString("latin1"),
      attempts: Number(f[5]!.toString("latin1")),
      at: Number(f[6]!.toString("latin1")),
      x1: f[7] ?? EMPTY,
      x2: f[8] ?? EMPTY,
      x3: f[9] ?? EMPTY,
    });
  }
  return records;
}

/** A control message for workers. */
export type ControlMessage =
  | { kind: "wake" }
  | { kind: "due"; at: number }
  | { kind: "cancel"; jobId: string }
  /** A schedule was stored or deleted: schedulers look again. */
  | { kind: "schedules" }
  /** The queue was paused: jobs claimed ahead and not started go back. */
  | { kind: "paused" }
  | { kind: "unknown" };

export function parseControlMessage(message: string): ControlMessage {
  const tag = message[0];
  if (tag === "w") return { kind: "wake" };
  if (tag === "d") {
    const at = Number(message.slice(1));
    return Number.isFinite(at) ? { kind: "due", at } : { kind: "unknown" };
  }
  if (tag === "s") return { kind: "schedules" };
  if (tag === "p") return { kind: "paused" };
  if (tag === "c" && message.length > 1) return { kind: "cancel", jobId: message.slice(1) };
  return { kind: "unknown" };
}
