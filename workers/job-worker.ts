/**
 * The Piscina worker entry. It imports only what a job needs in a thread:
 * the registry, the job context and the codecs, never the queues' machinery.
 * A task module is imported by the URL the main thread's registry gave, the
 * task is found by name, and its return value or error is sent back.
 */
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { getHeapStatistics, serialize } from "node:v8";
import { MessageChannel, parentPort, threadId, workerData } from "node:worker_threads";
import * as Comlink from "comlink";
import { displayModule } from "../src/caller-module.js";
import { assertCloneable, decodeMsgpack, decodeV8, encodeMsgpack } from "../src/codec.js";
import { maybeCurrentJob, runWithJob } from "../src/current-job.js";
import {
  boundStack,
  ErrorCode,
  type ErrorCodeValue,
  jobError,
  serializeError,
} from "../src/errors.js";
import {
  type AbortMessage,
  type Answer,
  ArgsEncoding,
  type BatchRequest,
  CancelFlag,
  type EngineWorkerData,
  type HostWire,
  type ProgressMessage,
  type RetireMessage,
  type RunRequest,
  type WorkerErrorPayload,
  type WorkerHello,
} from "../src/executor/protocol.js";
import { assertSerializable, decodeThreadArgsValue } from "../src/executor/thread-args.js";
import { loaderHint } from "../src/executor/thread-loader.js";
import { stopError, WorkerJob } from "../src/executor/worker-job.js";
import { LogBuffer } from "../src/executor/worker-logs.js";
import { findBuffers, forgetMoves, movesPending, unmark } from "../src/move.js";
import { findTask } from "../src/registry.js";
import type { TaskDefinition } from "../src/task-definition.js";
import { setWorkerHost } from "../src/thread-role.js";

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

const data = workerData as EngineWorkerData;
// The main thread's TypeScript loader (see thread-loader.ts), before any task module.
for (const url of data.preload) await import(url);
const flags = new Int32Array(data.flags);
const owners = new Int32Array(data.owners);

// The thread's one channel to the main thread: progress and follow-up
// enqueues go up it, aborts come down it. Its far end travels in a hello
// message through parentPort, which the pool forwards as a 'message' event.
// Batch results go on a second channel, which the main thread drains when a
// batch ends. The hello precedes the pool's ready message on parentPort, so
// the main thread holds both ports before the pool sends this thread a task.
const { port1: port, port2 } = new MessageChannel();
const { port1: results, port2: resultsFar } = new MessageChannel();
parentPort!.postMessage(
  { rapidaiHello: port2, results: resultsFar, threadId } satisfies WorkerHello,
  [port2, resultsFar],
);

const host = Comlink.wrap<HostWire>({
  postMessage: (message: unknown, transfer?: Transferable[]) =>
    port.postMessage(message, transfer as never),
  addEventListener: (_type: string, listener: EventListenerOrEventListenerObject) => {
    port.on("message", (data: unknown) => {
      const event = { data } as MessageEvent;
      if (typeof listener === "function") listener(event);
      else listener.handleEvent(event);
    });
  },
  removeEventListener: () => {},
});
setWorkerHost({
  async enqueue(task, args, options) {
    // Checked here, so a bad argument is named as on the main thread and
    // is not a bare DataCloneError from the channel.
    assertCloneable(args);
    const answer = await host.enqueue(task, args, options);
    if ("id" in answer) return answer.id;
    const { code, message } = answer.error;
    if (code !== undefined && KNOWN_CODES.has(code))
      throw jobError(code as ErrorCodeValue, message);
    throw Object.assign(new Error(message), { name: answer.error.name, code });
  },
});

const running = new Map<number, WorkerJob>();
port.on("message", (message: AbortMessage) => {
  if (message?.kind !== "abort") return;
  const job = running.get(message.slot);
  if (job !== undefined && job.id === message.jobId && job.attempt === message.attempt)
    job.abort(message.reason);
});
port.unref();

const logs = new LogBuffer((message) => port.postMessage(message));
const link = {
  flags,
  logs,
  progress(slot: number, jobId: string, value: unknown): void {
    port.postMessage({ kind: "progress", slot, jobId, value } satisfies ProgressMessage);
  },
};

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

function payload(error: unknown): WorkerErrorPayload {
  return { rapidaiError: true, ...serializeError(error) };
}

/**
 * An error the engine makes: its own stack would only show this file, so it
 * carries the stack of what caused it (a module's import error), or none.
 */
function codedPayload(code: ErrorCodeValue, message: string, cause?: unknown): WorkerErrorPayload {
  const { stack: _, ...made } = payload(jobError(code, message));
  const from = cause instanceof Error && typeof cause.stack === "string" ? cause.stack : undefined;
  return from === undefined ? made : { ...made, stack: boundStack(from) };
}

const tasks = new Map<string, TaskDefinition>();
const imports = new Map<string, Promise<unknown>>();

/**
 * Imports a module, or gives up after `importTimeoutMs`: a top-level await
 * that never settles would hold the job and this thread for good. The import
 * cannot be called off, so the thread retires, and jobs of that module still
 * queued here fail at once.
 */
function importModule(url: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      retire();
      reject(
        new Error(
          `it did not finish within ${data.importTimeoutMs} ms (a top-level await that never settles?)`,
        ),
      );
    }, data.importTimeoutMs);
  });
  return Promise.race([import(url), timeout]).finally(() => clearTimeout(timer));
}

async function load(req: RunRequest): Promise<TaskDefinition> {
  if (req.module === "") {
    throw codedPayload(ErrorCode.UNKNOWN_TASK, `task "${req.task}" has no module to load it from`);
  }
  let loading = imports.get(req.module);
  if (loading === undefined) {
    loading = importModule(req.module);
    imports.set(req.module, loading);
  }
  try {
    await loading;
  } catch (error) {
    throw codedPayload(
      ErrorCode.TASK_MODULE_IMPORT,
      `the module of task "${req.task}" (${displayModule(req.module)}) failed to import: ${(error as Error)?.message ?? error}${loaderHint(error)}`,
      error,
    );
  }
  const def = findTask(req.task);
  if (def === undefined) {
    throw codedPayload(
      ErrorCode.UNKNOWN_TASK,
      `task "${req.task}" is not defined by ${displayModule(req.module)}`,
    );
  }
  tasks.set(req.task, def);
  return def;
}

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
  });
}

/**
 * The pool posts a result back by structured clone, outside the job: a value
 * that cannot be cloned would throw there, where no job owns the error, and
 * the job would never answer. Checked here, it fails its own job instead.
 * Primitives and binary data always clone, so they skip the check; buffers
 * that move are not copied to check them.
 */
function assertCloneableResult(result: unknown, moved: readonly ArrayBuffer[]): void {
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

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A result as msgpack bytes in a latin1 string, checked against
 * `maxResultBytes` here, where it is encoded: an oversized result never
 * crosses to the main thread nor goes to Redis (which would refuse the whole
 * write-back call, and the healthy results in it).
 */
function encodeResult(result: unknown): string {
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
interface Outcome {
  value: unknown;
  transfer: ArrayBuffer[];
}

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

// At most `perThread` jobs run on this thread at once. The pool may hand the
// thread a few more (prefetched, so they start without waiting a round trip to
// the main thread); they wait here, not yet owning their slots, so a crash of the
// running job cannot be blamed on it.
let runningCount = 0;
const turns: (() => void)[] = [];

function acquire(): Promise<void> | undefined {
  if (runningCount < data.perThread) {
    runningCount++;
    return undefined;
  }
  return new Promise<void>((resolve) => turns.push(resolve));
}

function release(answered: boolean): void {
  const next = turns.shift();
  // The next job starts after this one's answer is posted, not before.
  if (next === undefined) runningCount--;
  else if (answered) next();
  else setImmediate(next);
  if (next === undefined) sayRetiredWhenIdle();
}

// ---- retiring: replaced between jobs, never under one ----
const retiringCells = new Int32Array(data.retiring);
let jobsRun = 0;
let retiring = false;
let saidRetired = false;

/**
 * This thread runs no new task from now on: its threadId in a free cell of
 * the shared table keeps the load balancer off it at once (a message could
 * arrive after the pool handed it the next task). Jobs already queued here
 * still run; once none is left, the main thread is told to terminate it.
 */
function retire(): void {
  if (retiring) return;
  retiring = true;
  for (let i = 0; i < retiringCells.length; i++) {
    if (Atomics.compareExchange(retiringCells, i, 0, threadId) === 0) break;
  }
  sayRetiredWhenIdle();
}

function sayRetiredWhenIdle(): void {
  if (!retiring || saidRetired || runningCount > 0 || turns.length > 0) return;
  saidRetired = true;
  port.postMessage({ kind: "retire", threadId } satisfies RetireMessage);
}

/** After each job: has this thread run its share, or is its heap over the limit? */
function checkLimits(): void {
  jobsRun++;
  if (data.maxJobsPerThread > 0 && jobsRun >= data.maxJobsPerThread) retire();
  else if (
    data.maxThreadHeapMb > 0 &&
    getHeapStatistics().used_heap_size > data.maxThreadHeapMb * 1024 * 1024
  )
    retire();
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
function answerOf(
  req: RunRequest,
  ms: number,
  outcome: Outcome | undefined,
  error: unknown,
): { answer: Answer; transfer: ArrayBuffer[] } {
  const transfer = outcome?.transfer ?? [];
  const answer: Answer =
    error === undefined
      ? { slot: req.slot, jobId: req.jobId, ranMs: ms, value: outcome?.value }
      : { slot: req.slot, jobId: req.jobId, ranMs: ms, error: error as WorkerErrorPayload };
  if (req.buffers !== undefined) answer.returned = handBack(req, transfer);
  return { answer, transfer };
}

/** Posts a batched attempt's answer on the result channel, its buffers transferred. */
function postAnswer(
  req: RunRequest,
  ms: number,
  outcome: Outcome | undefined,
  error: unknown,
): void {
  const { answer, transfer } = answerOf(req, ms, outcome, error);
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
function movable(outcome: Outcome): unknown {
  if (outcome.transfer.length === 0) return outcome.value;
  piscinaMove ??= (require("piscina") as typeof import("piscina")).move as (v: unknown) => unknown;
  return piscinaMove({
    [Symbol.for("Piscina.transferable")]: outcome.transfer,
    [Symbol.for("Piscina.valueOf")]: outcome.value,
  });
}

export default async function run(req: RunRequest | BatchRequest): Promise<unknown> {
  if (!("batch" in req)) {
    if (req.buffers === undefined) return movable(await runJob(req));
    // Moved arguments: the answer is data, an error included, so that the
    // buffers come back (transferred) however the job ended.
    let answered: ReturnType<typeof answerOf> | undefined;
    await runJob(req, (r, ms, outcome, error) => {
      answered = answerOf(r, ms, outcome, error);
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
  post?: (req: RunRequest, ms: number, outcome: Outcome | undefined, error: unknown) => void,
  posted = post === postAnswer,
): Promise<Outcome> {
  const wait = acquire();
  if (wait !== undefined) await wait;
  const t0 = performance.now();
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
    }
    outcome = await execute(def, req);
    return outcome;
  } catch (e) {
    error = e;
    throw e;
  } finally {
    checkLimits();
    post?.(req, performance.now() - t0, outcome, error);
    Atomics.store(owners, req.slot, 0);
    release(posted);
  }
}
