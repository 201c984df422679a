/**
 * A pool thread's own state, set up once when the thread starts (imported
 * only by workers/job-worker.ts and its modules, never on the main thread):
 * the shared tables, the thread's two channels to the main thread, the host
 * that follow-up enqueues go through, and the attempts running here.
 */
import { MessageChannel, parentPort, threadId, workerData } from "node:worker_threads";
import * as Comlink from "comlink";
import { assertCloneable } from "../codec.js";
import { ErrorCode, type ErrorCodeValue, jobError } from "../errors.js";
import { setWorkerHost } from "../thread-role.js";
import type {
  AbortMessage,
  EngineWorkerData,
  HostWire,
  ProgressMessage,
  WorkerHello,
} from "./protocol.js";
import type { WorkerJob } from "./worker-job.js";
import { LogBuffer } from "./worker-logs.js";

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

export const data = workerData as EngineWorkerData;
export const flags = new Int32Array(data.flags);
export const owners = new Int32Array(data.owners);
export const ran = new Float64Array(data.ran);

// The thread's one channel to the main thread: progress and follow-up
// enqueues go up it, aborts come down it. Its far end travels in a hello
// message through parentPort, which the pool forwards as a 'message' event.
// Batch results go on a second channel, which the main thread drains when a
// batch ends. The hello precedes the pool's ready message on parentPort, so
// the main thread holds both ports before the pool sends this thread a task.
const { port1: port, port2 } = new MessageChannel();
const { port1: results, port2: resultsFar } = new MessageChannel();

export { port, results };

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

/** The attempts running on this thread, by slot. */
export const running = new Map<number, WorkerJob>();
port.on("message", (message: AbortMessage) => {
  if (message?.kind !== "abort") return;
  const job = running.get(message.slot);
  if (job !== undefined && job.id === message.jobId && job.attempt === message.attempt)
    job.abort(message.reason);
});
port.unref();

export const logs = new LogBuffer((message) => port.postMessage(message));
export const link = {
  flags,
  logs,
  progress(slot: number, jobId: string, value: unknown): void {
    port.postMessage({ kind: "progress", slot, jobId, value } satisfies ProgressMessage);
  },
};
