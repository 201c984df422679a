import { encodeMsgpack } from "../codec.js";
import type { ClaimedJob, Ending, SettleReply } from "../engine/store.js";
import { errorMessage } from "../errors.js";
import { packCompletions } from "./packed.js";
import type { QueueKeys } from "./queue-keys.js";
import type { ScriptRunner } from "./scripts.js";

type Completed = Extract<Ending, { kind: "completed" }>;

/**
 * Writes attempts' endings: the completed ones in one complete call, the
 * failed, retried and cancelled ones in one fail call, the requeued ones in
 * one hand-back call, all three at once. Resolves with, per ending, whether
 * it was applied (false: the lease was taken over), or undefined where its
 * call failed, so only those are tried again.
 */
export async function writeEndings(
  scripts: ScriptRunner,
  k: QueueKeys,
  endings: readonly Ending[],
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
  if (completes.length > 0) {
    const packed = packCompletions(
      completes.map((i) => {
        const e = endings[i] as Completed;
        return {
          id: e.job.id,
          token: e.job.token,
          result: resultString(e.result),
          durationMs: e.durationMs,
        };
      }),
    );
    calls.push([
      completes,
      scripts.run("complete", [k.completed, k.cancelled, k.leases, k.done], [packed]),
    ]);
  }
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
      out[i] = applied[j] === 1;
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
        errorMessage(e.error),
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
