import type { ServerResponse } from "node:http";
import { JOB_EVENTS } from "../events.js";
import type { JobQueue } from "../job-queue.js";
import { type JsonValue, toJsonSafe } from "./json-safe.js";

/** The queue events the stream forwards: every job event, not `error`, which may carry internals. */
export const STREAMED_EVENTS = JOB_EVENTS;

type StreamedEvent = (typeof STREAMED_EVENTS)[number];

/** A client whose socket holds more unsent bytes than this is too slow: it is dropped and may reconnect. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

interface Client {
  res: ServerResponse;
  jobId: string | undefined;
  task: string | undefined;
}

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The SSE payload of a queue event: its fields in snake_case, JSON-safe.
 * A `completed` event's result is left out (it may be large); `GET /jobs/:id`
 * has it.
 */
export function eventPayload(name: StreamedEvent, payload: object): JsonValue {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(payload)) {
    if (name === "completed" && key === "result") continue;
    if (value === undefined) continue;
    out[snake(key)] = toJsonSafe(value);
  }
  return out;
}

/**
 * Fans queue events out to server-sent-event clients. It listens to the
 * queue only while at least one client is connected, so a service nobody
 * watches adds no listener (the memory queue skips building payloads for
 * events nobody listens to). Each event is serialized once for all clients.
 */
export class EventStream {
  readonly #queue: JobQueue;
  readonly #heartbeatMs: number;
  readonly #clients = new Set<Client>();
  readonly #listeners = new Map<StreamedEvent, (payload: object) => void>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(queue: JobQueue, heartbeatMs: number) {
    this.#queue = queue;
    this.#heartbeatMs = heartbeatMs;
  }

  /** Connected clients. */
  get size(): number {
    return this.#clients.size;
  }

  /** Starts streaming to `res` (headers already decided by the caller) until it closes. */
  add(res: ServerResponse, filter: { jobId?: string; task?: string } = {}): void {
    const client: Client = { res, jobId: filter.jobId, task: filter.task };
    this.#clients.add(client);
    res.on("close", () => this.#remove(client));
    // Tell EventSource how soon to reconnect, and flush the headers now.
    res.write("retry: 3000\n: connected\n\n");
    if (this.#clients.size === 1) this.#subscribe();
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    for (const client of [...this.#clients]) {
      client.res.end();
      this.#remove(client);
    }
  }

  #remove(client: Client): void {
    if (!this.#clients.delete(client)) return;
    if (this.#clients.size === 0) this.#unsubscribe();
  }

  #subscribe(): void {
    for (const name of STREAMED_EVENTS) {
      const listener = (payload: object) => this.#broadcast(name, payload);
      this.#listeners.set(name, listener);
      this.#queue.on(name, listener as never);
    }
    this.#heartbeat = setInterval(
      () => this.#write(": heartbeat\n\n", undefined),
      this.#heartbeatMs,
    );
    this.#heartbeat.unref();
  }

  #unsubscribe(): void {
    for (const [name, listener] of this.#listeners) this.#queue.off(name, listener as never);
    this.#listeners.clear();
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #broadcast(name: StreamedEvent, payload: object): void {
    const p = payload as { jobId?: string; task?: string };
    const frame = `event: ${name}\ndata: ${JSON.stringify(eventPayload(name, payload))}\n\n`;
    this.#write(frame, p);
  }

  #write(frame: string, about: { jobId?: string; task?: string } | undefined): void {
    for (const client of [...this.#clients]) {
      if (about !== undefined) {
        if (client.jobId !== undefined && client.jobId !== about.jobId) continue;
        if (client.task !== undefined && client.task !== about.task) continue;
      }
      if (client.res.writableLength > MAX_BUFFERED_BYTES) {
        client.res.destroy();
        this.#remove(client);
        continue;
      }
      client.res.write(frame);
    }
  }
}
