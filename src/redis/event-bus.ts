import {
  type ConnectionSettings,
  closeClient,
  createClient,
  ensureConnected,
  type RedisClient,
} from "./connection.js";

type Handler = (message: Buffer) => void;

/**
 * One subscriber connection per queue, made at first use. Channels are
 * subscribed on demand (job events only once someone listens or waits;
 * worker control only while the queue runs jobs). ioredis subscribes again
 * after a reconnect; `onReconnect` lets the owner catch up on what it may
 * have missed meanwhile. On a Redis Cluster the channels are sharded ones
 * (SSUBSCRIBE, on the shard that owns the queue's slot; ioredis moves the
 * subscription when a failover moves the slot).
 */
export class EventBus {
  readonly #settings: ConnectionSettings;
  readonly #name: string;
  #client: RedisClient | undefined;
  #handlers = new Map<string, Handler>();
  #subscribing = new Map<string, Promise<void>>();
  #reconnectHooks: (() => void)[] = [];
  #everReady = false;

  constructor(settings: ConnectionSettings, name: string) {
    this.#settings = settings;
    this.#name = name;
  }

  /** On a cluster, channels are sharded (SSUBSCRIBE): the scripts SPUBLISH to the queue's shard. */
  get #sharded(): boolean {
    return this.#settings.cluster !== undefined;
  }

  /** Calls `fn` each time the subscriber connection is ready again after a drop. */
  onReconnect(fn: () => void): void {
    this.#reconnectHooks.push(fn);
  }

  /** True once `channel` is subscribed (or being subscribed). */
  has(channel: string): boolean {
    return this.#handlers.has(channel);
  }

  /** Resolves once every subscription asked for so far is confirmed. */
  async settled(): Promise<void> {
    if (this.#subscribing.size > 0) await Promise.all(this.#subscribing.values());
  }

  /** Subscribes `handler` to `channel` (idempotent: the first handler stays). */
  subscribe(channel: string, handler: Handler, timeoutMs: number): Promise<void> {
    const pending = this.#subscribing.get(channel);
    if (pending !== undefined) return pending;
    if (this.#handlers.has(channel)) return Promise.resolve();
    this.#handlers.set(channel, handler);
    const client = this.#connection();
    const p = (async () => {
      await ensureConnected(client, this.#settings, timeoutMs);
      if (this.#sharded) await client.ssubscribe(channel);
      else await client.subscribe(channel);
    })();
    this.#subscribing.set(channel, p);
    p.then(
      () => this.#subscribing.delete(channel),
      () => {
        // Not subscribed: forget it so the next call tries again.
        this.#subscribing.delete(channel);
        this.#handlers.delete(channel);
      },
    );
    return p;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#handlers.clear();
    if (client === undefined) return;
    await closeClient(client);
  }

  #connection(): RedisClient {
    if (this.#client !== undefined) return this.#client;
    const client = createClient(this.#settings, this.#name, true);
    const deliver = (channel: Buffer, message: Buffer) => {
      this.#handlers.get(channel.toString())?.(message);
    };
    client.on(this.#sharded ? "smessageBuffer" : "messageBuffer", deliver);
    client.on("ready", () => {
      if (this.#everReady) for (const fn of this.#reconnectHooks) fn();
      this.#everReady = true;
    });
    this.#client = client;
    return client;
  }
}
