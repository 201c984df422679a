import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import * as Comlink from "comlink";
import { serializeError } from "../errors.js";
import type { WorkerHost } from "../thread-role.js";
import { hostEndpoint } from "./host-endpoint.js";
import type {
  AbortMessage,
  Answer,
  HostWire,
  LogMessage,
  ProgressMessage,
  RetireMessage,
  WarmMessage,
} from "./protocol.js";

/** What the channels hand to the executor. */
export interface ChannelHooks {
  /** Handles `task.enqueue()` called inside a job. */
  host(): WorkerHost;
  progress(message: ProgressMessage): void;
  log(message: LogMessage): void;
  retire(threadId: number): void;
  /** A batched attempt's answer, as soon as it arrives. */
  answer(answer: Answer): void;
}

/**
 * The main thread's ends of each pool thread's two channels: the thread's
 * own (progress, logs, follow-up enqueues and retire notices up; aborts
 * down), and its result channel, where each batched attempt posts its
 * answer the moment it ends. While batches are small (light load, see
 * {@link stream}) answers are read as they arrive, so a job is done as soon
 * as it ends, not when the last job of its batch does. Otherwise, and in
 * any case when the pool's answer for a batch comes, what waits on the
 * channel is read at once (drainAnswers): one wake of the main thread per
 * batch, not per job.
 */
export class ThreadChannels {
  #hooks: ChannelHooks;
  #ports = new Set<MessagePort>();
  /** Task modules known to import: every thread imports them ahead of their first job there. */
  #warm = new Set<string>();
  /** Each thread's channel with the function that handles its messages. */
  #deliver = new Map<MessagePort, (data: unknown) => void>();
  /** Each thread's result channel (batch answers), by threadId. */
  #results = new Map<number, ResultChannel>();
  /** Answers are read as they arrive (see stream). */
  #streaming = false;
  /** The host as worker threads call it: errors travel as data, code included. */
  #hostWire: HostWire = {
    enqueue: (task, args, options) =>
      this.#hooks
        .host()
        .enqueue(task, args, options)
        .then(
          (id) => ({ id }),
          (error: unknown) => ({ error: serializeError(error) }),
        ),
  };

  constructor(hooks: ChannelHooks) {
    this.#hooks = hooks;
  }

  /** A thread said hello: its channel and its result channel. */
  attach(port: MessagePort, threadId: number, results: MessagePort): void {
    this.#ports.add(port);
    const endpoint = hostEndpoint(port, (data) => this.#raw(data));
    // What this thread sent before an answer, read once that answer was:
    // the thread posted it first, so it is there by then.
    const before = () => drain(port, endpoint.deliver);
    const channel: ResultChannel = {
      port: results,
      before,
      onAnswer: (answer) => {
        before();
        this.#hooks.answer(answer);
      },
    };
    this.#results.set(threadId, channel);
    if (this.#streaming) listen(channel);
    Comlink.expose(this.#hostWire, endpoint);
    this.#deliver.set(port, endpoint.deliver);
    port.on("close", () => {
      this.#ports.delete(port);
      this.#deliver.delete(port);
    });
    port.unref();
    for (const module of this.#warm)
      port.postMessage({ kind: "warm", module } satisfies WarmMessage);
  }

  /**
   * A job of this module completed: the other threads import it now rather
   * than under their first job of it. Without this, the first job a thread
   * gets of a module waits for that import (tens of ms or more), which shows
   * as the worst latency of a burst that reaches a thread idle until then.
   */
  warm(module: string): void {
    if (module === "" || this.#warm.has(module)) return;
    this.#warm.add(module);
    for (const port of this.#ports)
      port.postMessage({ kind: "warm", module } satisfies WarmMessage);
  }

  /**
   * Reads batched answers as they arrive (true) or only when their batch
   * ends (false). A 'message' event per answer costs the main thread about
   * a fifth of its peak rate in no-op jobs, so it is worth it only while
   * batches are small and the wait for the rest of a batch is what a job's
   * latency is made of.
   */
  stream(on: boolean): void {
    if (on === this.#streaming) return;
    this.#streaming = on;
    for (const channel of this.#results.values()) {
      if (on) listen(channel);
      else channel.port.off("message", channel.onAnswer);
    }
  }

  /** Sends an abort notice to every thread (only the one running the attempt acts on it). */
  abort(message: AbortMessage): void {
    for (const port of this.#ports) port.postMessage(message);
  }

  /** A message on a thread's channel that is not comlink's: true when handled. */
  #raw(data: unknown): boolean {
    if (data === null || typeof data !== "object") return false;
    const message = data as ProgressMessage | LogMessage | RetireMessage;
    switch (message.kind) {
      case "progress":
        this.#hooks.progress(message);
        return true;
      case "log":
        this.#hooks.log(message);
        return true;
      case "retire":
        this.#hooks.retire(message.threadId);
        return true;
      default:
        return false;
    }
  }

  /**
   * The result came on the pool's channel (or the result channel), progress
   * and logs on the thread's own: read what the threads sent before they
   * answered, so that progress and log lines are delivered while the job
   * still counts as running, and before `completed`.
   */
  drainProgress(): void {
    for (const [port, deliver] of this.#deliver) drain(port, deliver);
  }

  /**
   * Reads every batched answer waiting on the result channels, each after
   * what its thread sent before it (the threads still run: progress a
   * thread posts after an earlier drain, then the answer of the same job,
   * must not find the job ended). With `alive` given, the channel of a
   * thread that is not alive any more is closed once read.
   */
  drainAnswers(onAnswer: (answer: Answer) => void, alive?: (threadId: number) => boolean): void {
    for (const [threadId, channel] of this.#results) {
      drainAnswers(channel, onAnswer);
      if (alive !== undefined && !alive(threadId)) {
        this.#results.delete(threadId);
        channel.port.close();
      }
    }
  }

  /** A thread ended: the answers it gave first, then its result channel goes. */
  forget(threadId: number, onAnswer: (answer: Answer) => void): void {
    const channel = this.#results.get(threadId);
    if (channel === undefined) return;
    drainAnswers(channel, onAnswer);
    this.#results.delete(threadId);
    channel.port.close();
  }

  close(): void {
    for (const port of this.#ports) port.close();
    this.#ports.clear();
    this.#deliver.clear();
    for (const channel of this.#results.values()) channel.port.close();
    this.#results.clear();
  }
}

/** A thread's result channel, with what reads its own channel before an answer. */
interface ResultChannel {
  port: MessagePort;
  /** Delivers what waits on the thread's own channel (progress, logs). */
  before(): void;
  /** An answer as it arrives (streaming): what came before it, then the answer. */
  onAnswer(answer: Answer): void;
}

function listen(channel: ResultChannel): void {
  channel.port.on("message", channel.onAnswer);
  // Like the thread's own channel, it never keeps the process alive.
  channel.port.unref();
}

/**
 * The answers waiting on a result channel, read first; then what their
 * thread sent before the last of them (one read of its own channel for
 * all); then the answers, in order.
 */
function drainAnswers(channel: ResultChannel, onAnswer: (answer: Answer) => void): void {
  const answers: Answer[] = [];
  drain(channel.port, (answer) => answers.push(answer as Answer));
  if (answers.length === 0) return;
  channel.before();
  for (const answer of answers) onAnswer(answer);
}

function drain(port: MessagePort, deliver: (data: unknown) => void): void {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    deliver(m.message);
  }
}
