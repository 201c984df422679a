import type { Redis } from "ioredis";
import type { QueueLogger } from "../engine/queue-options.js";
import { ErrorCode, type JobError, jobError } from "../errors.js";
import {
  type ConnectionSettings,
  createClient,
  ensureConnected,
  redactUrl,
  unavailable,
} from "./connection.js";
import { EventBus } from "./event-bus.js";
import { type ScriptArg, ScriptRunner } from "./scripts.js";

/**
 * A queue's connections to Redis, opened at first use: one client for
 * commands and scripts, one for subscriptions. Every failure to reach Redis
 * becomes a coded `ERR_BACKEND_UNAVAILABLE` here.
 */
export class RedisLink {
  readonly settings: ConnectionSettings;
  readonly #prefix: string;
  readonly #logger: QueueLogger;
  #client: Redis | undefined;
  #scripts: ScriptRunner | undefined;
  #bus: EventBus | undefined;
  #policyChecked = false;
  #readyHooks: (() => void)[] = [];
  closed = false;

  constructor(settings: ConnectionSettings, prefix: string, logger: QueueLogger) {
    this.settings = settings;
    this.#prefix = prefix;
    this.#logger = logger;
  }

  get client(): Redis {
    if (this.#client === undefined) {
      const client = createClient(this.settings, `rapidai:${this.#prefix}`);
      this.#client = client;
      this.#scripts = new ScriptRunner(client, this.#prefix);
      client.on("ready", () => {
        void this.#checkEvictionPolicy();
        for (const hook of this.#readyHooks) hook();
      });
    }
    return this.#client;
  }

  get scripts(): ScriptRunner {
    void this.client;
    return this.#scripts!;
  }

  get bus(): EventBus {
    this.#bus ??= new EventBus(this.settings, `rapidai:${this.#prefix}:sub`);
    return this.#bus;
  }

  /** Calls `fn` at every ready connection (a restarted Redis may have lost keys). */
  onReady(fn: () => void): void {
    this.#readyHooks.push(fn);
  }

  /** Connected within the command timeout, or `ERR_BACKEND_UNAVAILABLE`. */
  async ready(): Promise<Redis> {
    const client = this.client;
    if (this.closed && client.status === "end") throw closedError();
    try {
      await ensureConnected(client, this.settings, this.settings.commandTimeoutMs);
    } catch (error) {
      throw this.unavailable(error);
    }
    return client;
  }

  /** Runs a script once connected; bulk replies as Buffers when `buffers`. */
  async run(
    name: Parameters<ScriptRunner["run"]>[0],
    keys: string[],
    args: ScriptArg[],
    buffers = false,
  ): Promise<unknown> {
    await this.ready();
    const scripts = this.scripts;
    try {
      return await (buffers ? scripts.runBuffer(name, keys, args) : scripts.run(name, keys, args));
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** Runs a command once connected, its failure coded. */
  async command<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    const client = await this.ready();
    try {
      return await fn(client);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  unavailable(error: unknown): JobError {
    return unavailable(this.settings, error);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.#bus?.close();
    const client = this.#client;
    if (client !== undefined) {
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
  }

  async #checkEvictionPolicy(): Promise<void> {
    if (this.#policyChecked || this.#client === undefined) return;
    this.#policyChecked = true;
    const client = this.#client;
    let policy: string | undefined;
    try {
      const reply = (await client.config("GET", "maxmemory-policy")) as string[];
      policy = reply[1];
    } catch {
      try {
        const info = await client.info("memory");
        policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
      } catch {
        // Neither CONFIG nor INFO is allowed for this user: nothing to check with.
      }
    }
    if (policy !== undefined && policy !== "noeviction") {
      this.#logger.warn(
        `rapidai: Redis at ${redactUrl(this.settings.url)} has maxmemory-policy "${policy}": it may evict job keys and lose jobs. ` +
          `Set maxmemory-policy to "noeviction".`,
        { code: "EVICTION_POLICY" },
      );
    }
  }
}

export function closedError(): JobError {
  return jobError(ErrorCode.QUEUE_CLOSED, "the queue is closed: it takes no new jobs");
}
