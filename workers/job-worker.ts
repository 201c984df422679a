/**
 * The Piscina worker entry. It imports only what a job needs in a thread:
 * the registry, the job context and the codecs, never the queues' machinery.
 * A task module is imported by the URL the main thread's registry gave, the
 * task is found by name, and its return value or error is sent back. The
 * thread's state is in src/executor/worker-env.ts, task loading in
 * worker-load.ts, answers in worker-result.ts, turns and retiring in
 * worker-turns.ts.
 */
import { performance } from "node:perf_hooks";
import { threadId } from "node:worker_threads";
import { decodeMsgpack, decodeV8 } from "../src/codec.js";
import { maybeCurrentJob, runWithJob } from "../src/current-job.js";
import { ErrorCode, jobError } from "../src/errors.js";
import {
  ArgsEncoding,
  type BatchRequest,
  CancelFlag,
  type RunRequest,
  type WarmMessage,
} from "../src/executor/protocol.js";
import { decodeThreadArgsValue } from "../src/executor/thread-args.js";
import { data, flags, link, logs, owners, port, ran, running } from "../src/executor/worker-env.js";
import { stopError, WorkerJob } from "../src/executor/worker-job.js";
import { load, payload, tasks, warm } from "../src/executor/worker-load.js";
import {
  answerOf,
  assertCloneableResult,
  encodeResult,
  movable,
  type Outcome,
  postAnswer,
} from "../src/executor/worker-result.js";
import { acquire, checkLimits, release, retired } from "../src/executor/worker-turns.js";
import { findBuffers, forgetMoves, movesPending, unmark } from "../src/move.js";
import type { TaskDefinition } from "../src/task-definition.js";

// The main thread's TypeScript loader (see thread-loader.ts), before any task module.
for (const url of data.preload) await import(url);

// Task modules other threads ran: imported now, not under their first job here.
port.on("message", (message: WarmMessage) => {
  if (message?.kind === "warm") warm(message.module);
});
// The channel never keeps the thread alive on its own (as in worker-env.ts).
port.unref();

// An error thrown after a job resolved, or a promise it left rejected,
// belongs to the job whose async context raised it (AsyncLocalStorage follows
// timers and promises): it fails that attempt instead of killing the thread
// under the next job.
function blame(error: unknown): void {
  const ctx = maybeCurrentJob();
  const job =
    ctx instanceof WorkerJob
      ? ctx
      : running.size === 1
        ? (running.values().next().value as WorkerJob)
        : undefined;
  if (job !== undefined && running.get(job.slot) === job) {
    job.lateError ??= error;
    return;
  }
  console.error("rapidai: an error escaped a finished job on worker thread", threadId, error);
}
process.on("uncaughtException", blame);
process.on("unhandledRejection", blame);

function decodeArgs(req: RunRequest): unknown[] {
  if (req.encoding === ArgsEncoding.NONE || req.args === undefined) return [];
  const args =
    req.encoding === ArgsEncoding.V8
      ? decodeV8(req.args)
      : req.encoding === ArgsEncoding.V8_MOVED
        ? decodeMoved(req)
        : decodeMsgpack(req.args);
  if (!Array.isArray(args))
    throw jobError(ErrorCode.PAYLOAD_CORRUPT, "the job's arguments are not a list");
  return args;
}

/** Arguments with moved or shared buffers: they came beside the bytes. */
function decodeMoved(req: RunRequest): unknown {
  const buffers = req.buffers ?? [];
  return decodeThreadArgsValue(req.args!, {
    buffers,
    lengths: buffers.map((b) => b.byteLength),
    shared: req.shared ?? [],
    ...(req.flat === undefined ? {} : { flat: req.flat }),
  });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function execute(def: TaskDefinition, req: RunRequest): Promise<Outcome> {
  const job = new WorkerJob(req.jobId, req.task, req.attempt, req.slot, link, req.dependencies);
  running.set(req.slot, job);
  try {
    const args = decodeArgs(req);
    const result = await runWithJob(job, () => def.fn(...args));
    // One turn of the event loop lets an error thrown just after the job
    // returned surface while the job still owns it.
    await nextTurn();
    if (job.lateError !== undefined) throw job.lateError;
    // The bytes as a latin1 string (one character per byte): it crosses to
    // the main thread as one compact string, where a Uint8Array would cost
    // a buffer and two objects on each side (and a view into the encoder's
    // shared 8 KiB buffer would drag all of it along). Undefined, what most
    // jobs return, needs no bytes at all.
    if (req.encodeResult) {
      // Checked against structured clone first, as for the in-memory queue:
      // msgpack alone would store a function as undefined and a WeakMap as {}.
      assertCloneableResult(result, []);
      return { value: result === undefined ? undefined : encodeResult(result), transfer: [] };
    }
    const transfer = movesPending() ? findBuffers(result, false).moved : [];
    assertCloneableResult(result, transfer);
    unmark(transfer);
    return { value: result, transfer };
  } catch (error) {
    throw payload(error);
  } finally {
    running.delete(req.slot);
    // Marks made by jobs that ended and moved nothing stay unused: with no
    // job left here, no result can still carry them.
    if (running.size === 0) forgetMoves();
    // The job's log lines go before its answer.
    logs.flush();
  }
}

export default async function run(req: RunRequest | BatchRequest): Promise<unknown> {
  if (!("batch" in req)) {
    if (req.buffers === undefined) return movable(await runJob(req));
    // Moved arguments: the answer is data, an error included, so that the
    // buffers come back (transferred) however the job ended.
    let answered: ReturnType<typeof answerOf> | undefined;
    await runJob(req, (r, outcome, error) => {
      answered = answerOf(r, outcome, error);
    }).catch(() => {});
    return movable({ value: answered!.answer, transfer: answered!.transfer });
  }
  // All start now: acquire() lets them run in order, perThread at a time.
  // Each posts its answer itself, before the next may start.
  await Promise.all(req.batch.map((r) => runJob(r, postAnswer).catch(() => {})));
  return req.batch.length;
}

/**
 * Runs one attempt. A batched one (`post` given) posts its answer itself
 * before it gives up its turn, so the next job can start at once, with no
 * turn of the event loop in between, and a crash of the next job cannot
 * lose this one's answer. A single one answers through the pool, after it
 * returns; the next job starts one turn later, once that answer is posted.
 */
async function runJob(
  req: RunRequest,
  post?: (req: RunRequest, outcome: Outcome | undefined, error: unknown) => void,
  posted = post === postAnswer,
): Promise<Outcome> {
  const wait = acquire();
  if (wait !== undefined) await wait;
  if (retired()) {
    // This thread ran its share (maxJobsPerThread, maxThreadHeapMb) while
    // this job waited here, prefetched: it goes back unstarted (its slot
    // never owned, so its attempt does not count) and runs on another thread.
    const refused = new Error("the thread retired before this job started");
    post?.(req, undefined, refused);
    release(posted);
    throw refused;
  }
  let t0 = performance.now();
  let outcome: Outcome | undefined;
  let error: unknown;
  // Claim the slot: if this thread dies from here on (even while importing
  // the task's module), the main thread counts it as this job's crash.
  // Negative while the task's module is being imported, so a module that
  // ends the thread at import is known as a broken module, not a crash.
  let def = tasks.get(req.task);
  Atomics.store(owners, req.slot, def === undefined ? -threadId : threadId);
  try {
    // Cancelled (or timed out) while it waited: end without running.
    const flag = Atomics.load(flags, req.slot);
    if (flag !== CancelFlag.NONE) throw payload(stopError(flag));
    if (def === undefined) {
      def = await load(req);
      Atomics.store(owners, req.slot, threadId);
      // The import is the thread's cost, not the job's: the run time that
      // tells short tasks from long ones starts once the module is loaded.
      t0 = performance.now();
    }
    outcome = await execute(def, req);
    return outcome;
  } catch (e) {
    error = e;
    throw e;
  } finally {
    checkLimits();
    // Before the answer, so the main thread finds it there when it reads the answer.
    ran[req.slot] = performance.now() - t0;
    post?.(req, outcome, error);
    Atomics.store(owners, req.slot, 0);
    release(posted);
  }
}
