/**
 * A pool thread's answers: results checked for what crosses to the main
 * thread (structured clone, or msgpack bytes within maxResultBytes), and
 * each attempt's answer with the buffers that move along (its result's and
 * the argument buffers handed back for a retry).
 */
import { createRequire } from "node:module";
import { serialize } from "node:v8";
import { encodeMsgpack } from "../codec.js";
import { ErrorCode, jobError } from "../errors.js";
import type { Answer, RunRequest, WorkerErrorPayload } from "./protocol.js";
import { assertSerializable } from "./thread-args.js";
import { data, results } from "./worker-env.js";
import { codedPayload } from "./worker-load.js";

/**
 * The pool posts a result back by structured clone, outside the job: a value
 * that cannot be cloned would throw there, where no job owns the error, and
 * the job would never answer. Checked here, it fails its own job instead.
 * Primitives and binary data always clone, so they skip the check; buffers
 * that move are not copied to check them.
 */
export function assertCloneableResult(result: unknown, moved: readonly ArrayBuffer[]): void {
  if (typeof result !== "object" && typeof result !== "function" && typeof result !== "symbol") {
    return;
  }
  if (result === null || ArrayBuffer.isView(result) || result instanceof ArrayBuffer) return;
  try {
    // Serializing alone finds what cannot be cloned, at half the cost of a full clone.
    if (moved.length === 0) serialize(result);
    else assertSerializable(result, moved);
  } catch (error) {
    throw jobError(
      ErrorCode.RESULT_NOT_CLONEABLE,
      `the job's result cannot be cloned back to the main thread: ${(error as Error)?.message ?? error}`,
      error,
    );
  }
}

/**
 * A result as msgpack bytes in a latin1 string, checked against
 * `maxResultBytes` here, where it is encoded: an oversized result never
 * crosses to the main thread nor goes to Redis (which would refuse the whole
 * write-back call, and the healthy results in it).
 */
export function encodeResult(result: unknown): string {
  let bytes: Buffer;
  try {
    bytes = encodeMsgpack(result);
  } catch (error) {
    throw jobError(
      ErrorCode.RESULT_NOT_CLONEABLE,
      `the job's result could not be encoded: ${error instanceof RangeError ? "it is nested too deeply" : (error as Error)?.message}`,
      error,
    );
  }
  const limit = data.maxResultBytes;
  if (limit > 0 && bytes.byteLength > limit) {
    throw jobError(
      ErrorCode.RESULT_TOO_LARGE,
      `the job's result is ${bytes.byteLength} bytes encoded, over maxResultBytes (${limit}): return less, or store it elsewhere and return a reference`,
    );
  }
  return bytes.toString("latin1");
}

/** A result, and the buffers that move back with it (from `move()` inside the job). */
export interface Outcome {
  value: unknown;
  transfer: ArrayBuffer[];
}

/** The argument buffers to hand back: those still whole here, minus any that left with the result. */
function handBack(req: RunRequest, transfer: ArrayBuffer[]): (ArrayBuffer | undefined)[] {
  return (req.buffers ?? []).map((buffer) => {
    if (buffer.byteLength === 0 || transfer.includes(buffer)) return undefined;
    transfer.push(buffer);
    return buffer;
  });
}

/** An attempt's answer as data, with the buffers to transfer along: its result's, and the arguments'. */
export function answerOf(
  req: RunRequest,
  outcome: Outcome | undefined,
  error: unknown,
): { answer: Answer; transfer: ArrayBuffer[] } {
  const transfer = outcome?.transfer ?? [];
  const answer: Answer =
    error === undefined
      ? { slot: req.slot, jobId: req.jobId, value: outcome?.value }
      : { slot: req.slot, jobId: req.jobId, error: error as WorkerErrorPayload };
  if (req.buffers !== undefined) answer.returned = handBack(req, transfer);
  return { answer, transfer };
}

/** Posts a batched attempt's answer on the result channel, its buffers transferred. */
export function postAnswer(req: RunRequest, outcome: Outcome | undefined, error: unknown): void {
  const { answer, transfer } = answerOf(req, outcome, error);
  try {
    results.postMessage(answer, transfer);
  } catch (cloneError) {
    // Only a result that cannot be cloned gets here (the Redis backend's are bytes).
    delete answer.value;
    answer.error = codedPayload(
      ErrorCode.RESULT_NOT_CLONEABLE,
      `the job's result cannot be cloned back to the main thread: ${(cloneError as Error)?.message ?? cloneError}`,
    );
    results.postMessage(answer, answer.returned?.filter((b) => b !== undefined) ?? []);
  }
}

const require = createRequire(import.meta.url);
let piscinaMove: ((value: unknown) => unknown) | undefined;

/** A single job's result with buffers to move: the pool transfers them (loaded on first use). */
export function movable(outcome: Outcome): unknown {
  if (outcome.transfer.length === 0) return outcome.value;
  piscinaMove ??= (require("piscina") as typeof import("piscina")).move as (v: unknown) => unknown;
  return piscinaMove({
    [Symbol.for("Piscina.transferable")]: outcome.transfer,
    [Symbol.for("Piscina.valueOf")]: outcome.value,
  });
}
