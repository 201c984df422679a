import { decodeMsgpack } from "../codec.js";
import { JobResult } from "../job-result.js";
import { isJobStatus } from "../job-status.js";

/**
 * The fields of a job hash. Names are one letter: a queue holds many jobs,
 * and Redis stores field names once per hash.
 *
 * t task · s status · a args (msgpack) · m maxRetries · p priority ·
 * q creation sequence · c created ms · b started ms · f finished ms ·
 * n attempts · r result (msgpack) · e error message · k error code ·
 * g progress (msgpack) · w lease token of the running attempt ·
 * l token of the attempt that last ended · x "1" once a cancel was asked ·
 * o attempts when last retried by hand (the retry budget counts from there) ·
 * i this job's timeout ms · u its dedupe key · y "1" while it holds a slot
 * of its task's concurrency limit · st the stack of the error that failed
 * it (failed jobs only) · v "1" when it ended while pending (no duration)
 *
 * `m`, `p` and `n` are not stored while 0 (a new job has only `t`, `q`, `c`
 * and `s`, and `a` when it has arguments): a missing one reads as 0.
 */
export type JobHash = Record<string, Buffer | undefined>;

/** The fields the list script returns, in its order. */
const LISTED = ["t", "s", "m", "c", "b", "f", "n", "r", "e", "k", "g", "dl", "v"] as const;

/** Builds a hash object from the list script's values (nil for a missing field). */
export function hashFromListed(values: (Buffer | null)[]): JobHash {
  const h: JobHash = {};
  LISTED.forEach((name, i) => {
    const v = values[i];
    if (v !== null && v !== undefined) h[name] = v;
  });
  return h;
}

const num = (b: Buffer | undefined): number | undefined =>
  b === undefined ? undefined : Number(b.toString("latin1"));

function decodeOr(b: Buffer | undefined): unknown {
  if (b === undefined || b.length === 0) return undefined;
  try {
    return decodeMsgpack(b);
  } catch {
    return undefined;
  }
}

/**
 * A snapshot of a stored job, or undefined when the hash is empty or not a
 * job. Arguments are decoded only when asked (getResult), not for listings.
 */
export function jobResultFromHash(
  jobId: string,
  h: JobHash,
  withArgs: boolean,
  runAt?: number,
): JobResult | undefined {
  const status = h.s?.toString("latin1");
  if (!isJobStatus(status)) return undefined;
  const created = num(h.c) ?? 0;
  const started = num(h.b);
  const finished = num(h.f);
  const progress = decodeOr(h.g);
  const args = withArgs ? (h.a === undefined ? [] : decodeOr(h.a)) : undefined;
  return new JobResult({
    jobId,
    task: h.t?.toString() ?? "",
    status,
    ...(status === "completed" && h.r !== undefined ? { result: decodeOr(h.r) } : {}),
    ...(status !== "completed" && h.e !== undefined ? { error: h.e.toString() } : {}),
    ...(status !== "completed" && h.k !== undefined && h.k.length > 0
      ? { errorCode: h.k.toString() }
      : {}),
    ...(status === "failed" && h.st !== undefined ? { stack: h.st.toString() } : {}),
    ...(h.v !== undefined && h.v.length > 0 ? { endedPending: true } : {}),
    createdAt: new Date(created),
    ...(started === undefined ? {} : { startedAt: new Date(started) }),
    ...(finished === undefined ? {} : { completedAt: new Date(finished) }),
    attempts: num(h.n) ?? 0,
    maxRetries: num(h.m) ?? 0,
    ...(progress === undefined ? {} : { progress }),
    ...(Array.isArray(args) ? { args } : {}),
    ...(h.dl === undefined || h.dl.length === 0 ? {} : { dependsOn: h.dl.toString().split(",") }),
    ...(runAt === undefined ? {} : { runAt: new Date(runAt) }),
  });
}
