import type { TaskDefinition } from "../task-definition.js";
import type { WorkerHost } from "../thread-role.js";
import type { TimerQueue } from "../timer-queue.js";
import type { ArgsEncoding, RunRequest } from "./protocol.js";
import type { MovedArgs } from "./thread-args.js";

/** What the executor needs from its queue, beside the options. */
export interface ExecutorHooks {
  /** Handles `task.enqueue()` called inside a job. */
  host: WorkerHost;
  /** Largest encoded result a thread returns (with `encodeResult`), in bytes. @default no limit */
  maxResultBytes?: number;
  /** `currentJob().progress(value)` arrived for a running attempt. */
  progress(jobId: string, value: unknown): void;
  /**
   * `currentJob().log(text)` lines of a running attempt, in order, in
   * batches; every line of an attempt arrives before its `done`.
   */
  log?(jobId: string, lines: string[]): void;
  /** A problem outside any one job (a task module that cannot be imported). */
  error(error: Error): void;
  timers: TimerQueue;
}

/** One attempt to run: what the executor needs from the queue. */
export interface RunSpec {
  jobId: string;
  task: TaskDefinition;
  args: Uint8Array | undefined;
  encoding: ArgsEncoding;
  /**
   * The buffers that `prepareThreadArgs` detached from the caller (with
   * `ArgsEncoding.V8_MOVED`): they go to the thread in its transfer list and
   * come back into this same object when the attempt ends.
   */
  moved?: MovedArgs;
  attempt: number;
  /** Ask the worker for the result as msgpack bytes. */
  encodeResult: boolean;
  /** The results of the jobs it depended on, by job id. */
  dependencies?: Record<string, unknown>;
  /** Stop the attempt with `ERR_JOB_TIMEOUT` after this many ms of running (the job's or its task's). */
  timeoutMs?: number;
}

/** What the thread is sent for one attempt of `spec`, run in `slot`. */
export function requestOf(spec: RunSpec, slot: number): RunRequest {
  const request: RunRequest = {
    jobId: spec.jobId,
    task: spec.task.name,
    module: spec.task.moduleUrl ?? "",
    args: spec.args,
    encoding: spec.encoding,
    attempt: spec.attempt,
    slot,
    encodeResult: spec.encodeResult,
  };
  if (spec.dependencies !== undefined) request.dependencies = spec.dependencies;
  return request;
}
