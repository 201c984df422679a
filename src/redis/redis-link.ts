import type { QueueLogger } from "../engine/queue-options.js";
import { ErrorCode, type JobError, jobError } from "../errors.js";
import { backendError, isCredentialsRefusal } from "./backend-errors.js";
import {
  type ConnectionSettings,
  closeClient,
  createClient,
  describeTarget,
  ensureConnected,
  type RedisClient,
} from "./connection.js";
import { EventBus } from "./event-bus.js";
import { type ScriptArg, ScriptRunner } from "./scripts.js";

/**
 * A queue's connections to Redis, opened at first use: one client for
 * commands and scripts, one for subscriptions. Every Redis failure gets its
 * code here (see {@link backendError}). Credentials Redis refuses are
 * final: no reconnect can fix them, so the link closes its connections and
 * fails every later call at once with `ERR_BACKEND_AUTH` (ioredis would
 * otherwise try to log in again for ever).
 */
export class RedisLink {
  readonly settings: ConnectionSettings;
  readonly #prefix: string;
  readonly #logger: QueueLogger;
  #client: RedisClient | undefined;
  #scripts: ScriptRunner | undefined;
  #bus: EventBus | undefined;
  #policyChecked = false;
  #readyHooks: (() => void)[] = [];
  #refusedHooks: ((error: JobError) => void)[] = [];
  /** Set once Redis refused the credentials: every call fails with it. */
  refused: JobError | undefined;
  closed = false;

  constructor(settings: ConnectionSettings, prefix: string, logger: QueueLogger) {
    this.settings = settings;
    this.#prefix = prefix;
    this.#logger = logger;
  }

  get client(): RedisClient {
    if (this.#client === undefined) {
      const client = createClient(this.settings, `rapidai:${this.#prefix}`);
      this.#client = client;
      this.#scripts = new ScriptRunner(client, this.#prefix, this.settings.cluster !== undefined);
      client.on("ready", () => {
        void this.#checkEvictionPolicy();
        for (const hook of this.#readyHooks) hook();
      });
      client.on("error", (error: unknown) => {
        if (isCredentialsRefusal(error)) this.#refuse(error);
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

  /** Calls `fn` once if Redis refuses the credentials. */
  onRefused(fn: (error: JobError) => void): void {
    this.#refusedHooks.push(fn);
  }

  #refuse(error: unknown): void {
    if (this.refused !== undefined) return;
    this.refused = backendError(this.settings, error);
    this.#client?.disconnect();
    void this.#bus?.close();
    for (const hook of this.#refusedHooks) hook(this.refused);
  }

  /** Connected within the command timeout, or the coded reason why not. */
  async ready(): Promise<RedisClient> {
    const client = this.client;
    if (this.refused !== undefined) throw this.refused;
    // Closed: whatever the connection's state (quitting, or ended), a call now is refused.
    if (this.closed) throw closedError();
    try {
      await ensureConnected(client, this.settings, this.settings.commandTimeoutMs);
    } catch (error) {
      throw this.coded(error);
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
      throw this.coded(error);
    }
  }

  /** Runs a command once connected, its failure coded. */
  async command<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = await this.ready();
    try {
      return await fn(client);
    } catch (error) {
      throw this.coded(error);
    }
  }

  /** The coded error of a Redis failure (unavailable, full, refused, wrong type). */
  coded(error: unknown): JobError {
    if (this.refused !== undefined && isCredentialsRefusal(error)) return this.refused;
    return backendError(this.settings, error);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.#bus?.close();
    const client = this.#client;
    if (client !== undefined) {
      await closeClient(client);
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
        `rapidai: ${describeTarget(this.settings)} has maxmemory-policy "${policy}": it may evict job keys and lose jobs. ` +
          `Set maxmemory-policy to "noeviction".`,
        { code: "EVICTION_POLICY" },
      );
    }
  }
}

export function closedError(): JobError {
  return jobError(ErrorCode.QUEUE_CLOSED, "the queue is closed: it takes no new jobs");
}
