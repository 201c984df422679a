/**
 * The Piscina worker entry. It imports only what a job needs in a thread:
 * the registry, the job context and the codecs, never the queues' machinery.
 * A task module is imported by the URL the main thread's registry gave, the
 * task is found by name, and its return value or error is sent back.
 */
import { performance } from "node:perf_hooks";
import { serialize } from "node:v8";
import { MessageChannel, parentPort, threadId, workerData } from "node:worker_threads";
import * as Comlink from "comlink";
import { displayModule } from "../src/caller-module.js";
import { assertCloneable, decodeMsgpack, decodeV8, encodeMsgpack } from "../src/codec.js";
import { type JobContext, maybeCurrentJob, runWithJob } from "../src/current-job.js";
import {
  ErrorCode,
  type ErrorCodeValue,
  type JobError,
  jobError,
  serializeError,
} from "../src/errors.js";
import {
  type AbortMessage,
  ArgsEncoding,
  type BatchRequest,
  type BatchResult,
  CancelFlag,
  type EngineWorkerData,
  type HostWire,
  type ProgressMessage,
  type RunRequest,
  type WorkerErrorPayload,
  type WorkerHello,
} from "../src/executor/protocol.js";
import { loaderHint } from "../src/executor/thread-loader.js";
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
  { rapidaiHello: port2, rapidaiResults: resultsFar, threadId } satisfies WorkerHello,
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
  if (typeof message?.c !== "number") return;
  const job = running.get(message.c);
  if (job !== undefined && job.id === message.i) job.abort(message.r);
});
port.unref();

function stopError(flag: number): JobError {
  return flag === CancelFlag.TIMED_OUT
    ? jobError(ErrorCode.TIMEOUT, "the job timed out")
    : jobError(ErrorCode.CANCELLED, "the job was cancelled");
}

/** A running job as the task sees it through `currentJob()`. */
class WorkerJob implements JobContext {
  #controller: AbortController | undefined;
  /** An uncaught error or unhandled rejection raised while this job ran. */
  lateError: unknown = undefined;

  constructor(
    readonly id: string,
    readonly task: string,
    readonly attempt: number,
    readonly slot: number,
  ) {}

  // Made on first use: most jobs never look at their signal.
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const flag = Atomics.load(flags, this.slot);
      if (flag !== CancelFlag.NONE) this.#controller.abort(stopError(flag));
    }
    return this.#controller.signal;
  }

  progress(value: unknown): void {
    port.postMessage({ p: this.slot, i: this.id, v: value } satisfies ProgressMessage);
  }

  throwIfCancelled(): void {
    const flag = Atomics.load(flags, this.slot);
    if (flag !== CancelFlag.NONE) throw stopError(flag);
  }

  abort(flag: number): void {
    if (this.#controller === undefined) {
      this.signal; // creates it already aborted, from the shared flag
    } else if (!this.#controller.signal.aborted) {
      this.#controller.abort(stopError(flag));
    }
  }
}

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

function codedPayload(code: ErrorCodeValue, message: string): WorkerErrorPayload {
  return payload(jobError(code, message));
}

const tasks = new Map<string, TaskDefinition>();
const imports = new Map<string, Promise<unknown>>();

async function load(req: RunRequest): Promise<TaskDefinition> {
  if (req.m === "") {
    throw codedPayload(ErrorCode.UNKNOWN_TASK, `task "${req.n}" has no module to load it from`);
  }
  let loading = imports.get(req.m);
  if (loading === undefined) {
    loading = import(req.m);
    imports.set(req.m, loading);
  }
  try {
    await loading;
  } catch (error) {
    throw codedPayload(
      ErrorCode.TASK_MODULE_IMPORT,
      `the module of task "${req.n}" (${displayModule(req.m)}) failed to import: ${(error as Error)?.message ?? error}${loaderHint(error)}`,
    );
  }
  const def = findTask(req.n);
  if (def === undefined) {
    throw codedPayload(
      ErrorCode.UNKNOWN_TASK,
      `task "${req.n}" is not defined by ${displayModule(req.m)}`,
    );
  }
  tasks.set(req.n, def);
  return def;
}

function decodeArgs(req: RunRequest): unknown[] {
  if (req.e === ArgsEncoding.NONE || req.a === undefined) return [];
  const args = req.e === ArgsEncoding.V8 ? decodeV8(req.a) : decodeMsgpack(req.a);
  if (!Array.isArray(args))
    throw jobError(ErrorCode.PAYLOAD_CORRUPT, "the job's arguments are not a list");
  return args;
}

/**
 * The pool posts a result back by structured clone, outside the job: a value
 * that cannot be cloned would throw there, where no job owns the error, and
 * the job would never answer. Checked here, it fails its own job instead.
 * Primitives and binary data always clone, so they skip the check.
 */
function assertCloneableResult(result: unknown): void {
  if (typeof result !== "object" && typeof result !== "function" && typeof result !== "symbol") {
    return;
  }
  if (result === null || ArrayBuffer.isView(result) || result instanceof ArrayBuffer) return;
  try {
    // Serializing alone finds what cannot be cloned, at half the cost of a full clone.
    serialize(result);
  } catch (error) {
    throw jobError(
      ErrorCode.RESULT_NOT_CLONEABLE,
      `the job's result cannot be cloned back to the main thread: ${(error as Error)?.message ?? error}`,
      error,
    );
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function execute(def: TaskDefinition, req: RunRequest): Promise<unknown> {
  const job = new WorkerJob(req.i, req.n, req.t, req.s);
  running.set(req.s, job);
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
    if (req.r) return result === undefined ? undefined : encodeMsgpack(result).toString("latin1");
    assertCloneableResult(result);
    return result;
  } catch (error) {
    throw payload(error);
  } finally {
    running.delete(req.s);
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
}

/** Posts a batched attempt's answer on the result channel. */
function postAnswer(req: RunRequest, ms: number, value: unknown, error: unknown): void {
  try {
    results.postMessage(
      (error === undefined
        ? { s: req.s, i: req.i, d: ms, v: value }
        : { s: req.s, i: req.i, d: ms, e: error as WorkerErrorPayload }) satisfies BatchResult,
    );
  } catch (cloneError) {
    // Only a result that cannot be cloned gets here (the Redis backend's are bytes).
    results.postMessage({
      s: req.s,
      i: req.i,
      d: ms,
      e: codedPayload(
        ErrorCode.RESULT_NOT_CLONEABLE,
        `the job's result cannot be cloned back to the main thread: ${(cloneError as Error)?.message ?? cloneError}`,
      ),
    } satisfies BatchResult);
  }
}

export default async function run(req: RunRequest | BatchRequest): Promise<unknown> {
  if (!("b" in req)) return runJob(req);
  // All start now: acquire() lets them run in order, perThread at a time.
  // Each posts its answer itself, before the next may start.
  await Promise.all(req.b.map((r) => runJob(r, postAnswer).catch(() => {})));
  return req.b.length;
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
  post?: (req: RunRequest, ms: number, value: unknown, error: unknown) => void,
): Promise<unknown> {
  const wait = acquire();
  if (wait !== undefined) await wait;
  const t0 = performance.now();
  let value: unknown;
  let error: unknown;
  // Claim the slot: if this thread dies from here on (even while importing
  // the task's module), the main thread counts it as this job's crash.
  // Negative while the task's module is being imported, so a module that
  // ends the thread at import is known as a broken module, not a crash.
  let def = tasks.get(req.n);
  Atomics.store(owners, req.s, def === undefined ? -threadId : threadId);
  try {
    // Cancelled (or timed out) while it waited: end without running.
    const flag = Atomics.load(flags, req.s);
    if (flag !== CancelFlag.NONE) throw payload(stopError(flag));
    if (def === undefined) {
      def = await load(req);
      Atomics.store(owners, req.s, threadId);
    }
    value = await execute(def, req);
    return value;
  } catch (e) {
    error = e;
    throw e;
  } finally {
    post?.(req, performance.now() - t0, value, error);
    Atomics.store(owners, req.s, 0);
    release(post !== undefined);
  }
}
