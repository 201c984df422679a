import type { EventEmitter } from "eventemitter3";
import { EngineQueue } from "../engine/engine-queue.js";
import type { JobQueueEvents } from "../events.js";
import { redactUrl } from "./connection.js";
import type { QueueKeys } from "./queue-keys.js";
import {
  type ParsedRedisOptions,
  parseRedisOptions,
  type RedisQueueOptions,
} from "./redis-options.js";
import { RedisStore } from "./redis-store.js";

// The options each queue was built with, for `rapidai-jobs worker`, which
// builds a processing twin of a queue a task module made. Kept off the class
// so it is not public API.
const builtWith = new WeakMap<RedisQueue, RedisQueueOptions>();

/** The options a Redis queue was built with (a copy). */
export function redisQueueOptions(queue: RedisQueue): RedisQueueOptions {
  return { ...builtWith.get(queue) };
}

type Listener<T extends EventEmitter.EventNames<JobQueueEvents>> = EventEmitter.EventListener<
  JobQueueEvents,
  T
>;

/**
 * The durable queue: jobs live in Redis and survive restarts; any number of
 * processes on any number of machines enqueue, read and run them. Every
 * state change is one Lua script; workers hold renewable leases on the jobs
 * they run, so a job whose worker died runs again (at least once), and a
 * late answer from an expired lease is refused (fencing).
 *
 * Building one does no I/O and starts no thread: the connection opens at
 * first use, and the worker threads when the queue starts running jobs.
 */
export class RedisQueue extends EngineQueue {
  readonly backend = "redis" as const;
  readonly #o: ParsedRedisOptions;

  constructor(options: RedisQueueOptions = {}) {
    const o = parseRedisOptions(options);
    super((sink) => new RedisStore(o, sink), {
      executor: o.executor,
      process: o.process,
      logger: o.worker.logger,
      maxResultBytes: o.common.maxResultBytes,
    });
    this.#o = o;
    builtWith.set(this, { ...options });
  }

  /** The key prefix. */
  get prefix(): string {
    return this.#o.keys.prefix;
  }

  /** The Redis URL, password hidden. */
  get url(): string {
    return redactUrl(this.#o.connection.url);
  }

  /** True when this queue runs jobs (not only enqueues and reads). */
  get processes(): boolean {
    return this.#o.process;
  }

  /** Worker threads this queue runs jobs on (whether or not they started yet). */
  get threads(): number {
    return this.#o.common.threads;
  }

  /** The keys and channels this queue uses. */
  get keys(): QueueKeys {
    return this.#o.keys;
  }

  // Events of other processes reach this one once something listens to them.
  override on<T extends EventEmitter.EventNames<JobQueueEvents>>(
    event: T,
    fn: Listener<T>,
    context?: unknown,
  ): this {
    super.on(event, fn, context);
    this.#listen(event);
    return this;
  }

  override addListener<T extends EventEmitter.EventNames<JobQueueEvents>>(
    event: T,
    fn: Listener<T>,
    context?: unknown,
  ): this {
    return this.on(event, fn, context);
  }

  override once<T extends EventEmitter.EventNames<JobQueueEvents>>(
    event: T,
    fn: Listener<T>,
    context?: unknown,
  ): this {
    super.once(event, fn, context);
    this.#listen(event);
    return this;
  }

  #listen(event: string): void {
    if (this.closed) return;
    this.store.listen([event]).catch(() => {
      // Redis is down: the next enqueue or wait reports it; the next listener tries again.
    });
  }
}
