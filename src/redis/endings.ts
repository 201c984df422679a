import { encodeMsgpack } from "../codec.js";
import type { ClaimedJob, Ending, Refusal, SettleReply } from "../engine/store.js";
import { errorMessage } from "../errors.js";
import { type CompletionRecord, packCompletions } from "./packed.js";
import type { QueueKeys } from "./queue-keys.js";
import type { ScriptRunner } from "./scripts.js";

type Completed = Extract<Ending, { kind: "completed" }>;

/** What the ending scripts answer per job: 1 applied, else why not (see complete-4.lua). */
const VERDICTS: readonly (true | Refusal)[] = ["taken", true, "gone", "corrupt"];

/** Longest error message stored, in characters: the rest would only make the call heavy. */
const MAX_ERROR_CHARS = 64 * 1024;

/**
 * Writes attempts' endings: the completed ones in complete calls, the
 * failed, retried and cancelled ones in one fail call, the requeued ones in
 * one hand-back call, all at once. Completions go in calls of at most
 * `maxCallBytes` of results (one larger result alone), so a batch of
 * results each under the limit never makes one argument Redis refuses
 * (`proto-max-bulk-len`). Resolves with, per ending, whether it was applied
 * (or why not), or undefined where its call failed, so only those are tried
 * again.
 */
export async function writeEndings(
  scripts: ScriptRunner,
  k: QueueKeys,
  endings: readonly Ending[],
  maxCallBytes: number,
): Promise<SettleReply> {
  const completes: number[] = [];
  const fails: number[] = [];
  const requeues: number[] = [];
  endings.forEach((e, i) => {
    if (e.kind === "completed") completes.push(i);
    else if (e.kind === "requeued") requeues.push(i);
    else fails.push(i);
  });
  const calls: [number[], Promise<unknown>][] = [];
  let chunk: number[] = [];
  let rows: CompletionRecord[] = [];
  let bytes = 0;
  const sendCompletions = () => {
    if (chunk.length === 0) return;
    const packed = packCompletions(rows);
    calls.push([
      chunk,
      scripts.run("complete", [k.completed, k.cancelled, k.leases, k.done], [packed]),
    ]);
    chunk = [];
    rows = [];
    bytes = 0;
  };
  for (const i of completes) {
    const e = endings[i] as Completed;
    const result = resultString(e.result);
    if (bytes > 0 && bytes + result.length > maxCallBytes) sendCompletions();
    chunk.push(i);
    rows.push({ id: e.job.id, token: e.job.token, result, durationMs: e.durationMs });
    bytes += result.length;
  }
  sendCompletions();
  if (fails.length > 0) {
    const args: (string | number)[] = [fails.length];
    for (const i of fails) args.push(...failArgs(endings[i]!));
    const keys = [k.ready, k.delayed, k.pending, k.failed, k.cancelled, k.leases, k.done];
    calls.push([fails, scripts.run("fail", keys, args)]);
  }
  if (requeues.length > 0)
    calls.push([
      requeues,
      handBack(
        scripts,
        k,
        requeues.map((i) => endings[i]!.job),
      ),
    ]);
  const replies = await Promise.allSettled(calls.map(([, p]) => p));
  const out: SettleReply = new Array(endings.length).fill(undefined);
  let firstError: unknown;
  calls.forEach(([indexes], c) => {
    const r = replies[c]!;
    if (r.status === "rejected") {
      firstError ??= r.reason;
      return;
    }
    const applied = r.value as number[];
    indexes.forEach((i, j) => {
      out[i] = VERDICTS[applied[j]!] ?? "taken";
    });
  });
  if (firstError !== undefined && out.every((a) => a === undefined)) throw firstError;
  return out;
}

/** Gives jobs back: pending again at once, the attempt not counted. */
export function handBack(
  scripts: ScriptRunner,
  k: QueueKeys,
  jobs: readonly ClaimedJob[],
): Promise<unknown> {
  const args: (string | number)[] = [jobs.length];
  for (const job of jobs) args.push(job.id, job.token);
  return scripts.run("handBack", [k.ready, k.pending, k.cancelled, k.leases, k.done], args);
}

/**
 * id, token, kind, error, code, delay, duration, stack: the fail script's
 * fields of one ending. The stack goes with retries too, as the script may
 * find no retry left and fail the job; it stores it only then.
 */
function failArgs(e: Ending): (string | number)[] {
  const id = e.job.id;
  const token = e.job.token;
  const duration = (ms: number | undefined) => (ms === undefined ? "" : Math.round(ms));
  switch (e.kind) {
    case "failed":
    case "retry":
      return [
        id,
        token,
        e.kind === "failed" ? "f" : "r",
        storedMessage(e.error),
        e.error.code ?? "",
        e.kind === "failed" ? 0 : e.delayMs,
        duration(e.durationMs),
        e.error.stack ?? "",
      ];
    case "cancelled":
      return [id, token, "c", "", "", 0, duration(e.durationMs), ""];
    default:
      throw new Error(`not an ending of the fail script: ${e.kind}`);
  }
}

/** The error's one-line message, cut to a size worth storing. */
function storedMessage(error: Parameters<typeof errorMessage>[0]): string {
  const text = errorMessage(error);
  return text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS)}… (cut)`;
}

/**
 * A result as the complete script takes it. Worker threads send msgpack
 * bytes as a latin1 string (see RunRequest.r), and undefined as itself,
 * which travels as no bytes at all.
 */
function resultString(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return encodeMsgpack(value).toString("latin1");
}
