import { ErrorCode, jobError } from "../errors.js";
import { enumOption, integerOption, stringOption } from "../validate.js";
import type { RedisNode } from "./connection.js";

/** How a Redis queue is deployed, as validated from its options. */
export interface Deployment {
  cluster: RedisNode[] | undefined;
  sentinels: RedisNode[] | undefined;
  name: string | undefined;
  durability: "master" | "replicated";
  replicationTimeoutMs: number;
}

/**
 * Checks `cluster`, `sentinels` + `name`, `durability` and
 * `replicationTimeoutMs`. A cluster needs a prefix with a `{hash tag}`:
 * the scripts name job keys from the prefix inside Lua, so every key of a
 * queue must hash to the prefix's slot.
 */
export function parseDeployment(
  o: Record<string, unknown>,
  prefix: string,
  commandTimeoutMs: number,
): Deployment {
  const cluster = o.cluster === undefined ? undefined : nodeList("cluster", o.cluster, 6379);
  const sentinels =
    o.sentinels === undefined ? undefined : nodeList("sentinels", o.sentinels, 26379);
  if (cluster !== undefined && sentinels !== undefined) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "`cluster` and `sentinels` exclude each other: a Redis Cluster fails over by itself",
    );
  }
  const name = o.name === undefined ? undefined : stringOption("name", o.name);
  if (sentinels !== undefined && name === undefined) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "`sentinels` needs `name`: the master's name in the Sentinels' configuration, e.g. \"mymaster\"",
    );
  }
  if (name !== undefined && sentinels === undefined) {
    throw jobError(ErrorCode.INVALID_OPTION, "`name` only applies with `sentinels`");
  }
  if (cluster !== undefined && hashTag(prefix) === undefined) {
    throw jobError(
      ErrorCode.REDIS_CROSSSLOT,
      `in a Redis Cluster the prefix needs a {hash tag} so every key of the queue sits in one slot (got ${JSON.stringify(prefix)}): use e.g. "{myapp}:jobs:"`,
    );
  }
  const durability =
    o.durability === undefined
      ? "master"
      : enumOption("durability", o.durability, ["master", "replicated"] as const);
  // WAIT blocks on the server: it must answer before the command timeout fires.
  const replicationTimeoutMs =
    o.replicationTimeoutMs === undefined
      ? Math.max(1, Math.floor(commandTimeoutMs / 2))
      : integerOption(
          "replicationTimeoutMs",
          o.replicationTimeoutMs,
          1,
          Math.max(1, commandTimeoutMs - 1),
        );
  return { cluster, sentinels, name, durability, replicationTimeoutMs };
}

/** The hash tag Redis Cluster hashes a key by: the text of the first non-empty `{…}`. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

function nodeList(option: string, value: unknown, defaultPort: number): RedisNode[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`${option}\` must be a non-empty array of { host, port } (got ${JSON.stringify(value)})`,
    );
  }
  return value.map((n, i) => {
    const node = n as { host?: unknown; port?: unknown } | null;
    if (node === null || typeof node !== "object" || typeof node.host !== "string" || !node.host) {
      throw jobError(
        ErrorCode.INVALID_OPTION,
        `\`${option}[${i}]\` must be { host, port } with a host (got ${JSON.stringify(n)})`,
      );
    }
    const port =
      node.port === undefined
        ? defaultPort
        : integerOption(`${option}[${i}].port`, node.port, 1, 65_535);
    return { host: node.host, port };
  });
}
