import type { RedisClient } from "./connection.js";
import { SCRIPTS, type ScriptName } from "./embedded-scripts.js";

export type ScriptArg = string | number | Buffer | Uint8Array;

/**
 * Runs the embedded Lua scripts by SHA: ioredis sends EVALSHA and falls back
 * to EVAL on NOSCRIPT (a restarted or flushed server), in pipelines too.
 * Every script takes its data in ARGV; ARGV[1] is always the key prefix.
 */
export class ScriptRunner {
  readonly #client: RedisClient;
  readonly #prefix: string;

  /**
   * `sharded`: the scripts publish with SPUBLISH (Redis 7 sharded pub/sub),
   * so on a cluster a message stays on the shard of the queue's slot
   * instead of crossing the cluster bus to every node, as PUBLISH does.
   */
  constructor(client: RedisClient, prefix: string, sharded = false) {
    this.#client = client;
    this.#prefix = prefix;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      client.defineCommand(commandName(name as ScriptName), {
        numberOfKeys: script.numberOfKeys,
        lua: sharded ? shardedPublish(script.lua) : script.lua,
      });
    }
  }

  /** Runs a script; bulk replies come back as strings. */
  run(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    return this.#call(commandName(name), name, keys, args);
  }

  /** Runs a script; bulk replies come back as Buffers (for binary payloads). */
  runBuffer(
    name: ScriptName,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<unknown> {
    return this.#call(`${commandName(name)}Buffer`, name, keys, args);
  }

  #call(
    method: string,
    name: ScriptName,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<unknown> {
    if (keys.length !== SCRIPTS[name].numberOfKeys) {
      throw new Error(
        `script ${name} takes ${SCRIPTS[name].numberOfKeys} keys, got ${keys.length}`,
      );
    }
    const fn = (this.#client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
      method
    ]!;
    return fn.call(this.#client, ...keys, this.#prefix, ...args);
  }
}

/** The script with every PUBLISH made a sharded SPUBLISH (same arguments, same reply). */
export function shardedPublish(lua: string): string {
  return lua.replaceAll("redis.call('PUBLISH',", "redis.call('SPUBLISH',");
}

function commandName(name: ScriptName): string {
  return `rapidai_${name}`;
}
