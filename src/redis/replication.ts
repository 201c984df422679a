import { createRequire } from "node:module";
import type { Redis } from "ioredis";
import { ErrorCode, jobError } from "../errors.js";
import type { RedisClient } from "./connection.js";

const require = createRequire(import.meta.url);

/**
 * `durability: "replicated"`: resolves once at least one replica has every
 * write this connection made so far (`WAIT 1 <ms>`), or fails with
 * `ERR_REPLICATION_TIMEOUT`. WAIT counts the writes of the connection it is
 * sent on, so on a cluster it goes to the connection of the master that
 * owns `key`'s slot, the one the enqueue script ran on.
 */
export async function waitForReplica(
  client: RedisClient,
  key: string,
  timeoutMs: number,
): Promise<void> {
  const node = "slots" in client ? masterOf(client, key) : client;
  // WAIT blocks on the server for up to timeoutMs: allow the command that long.
  const acked = (await node.call("WAIT", 1, timeoutMs)) as number;
  if (acked < 1) {
    throw jobError(
      ErrorCode.REPLICATION_TIMEOUT,
      `no replica acknowledged the enqueue within ${timeoutMs} ms (durability "replicated"): ` +
        "the job is stored on the master but would be lost if it failed over now; check the replicas' link (INFO replication)",
    );
  }
}

function masterOf(cluster: Extract<RedisClient, { slots: unknown }>, key: string): Redis {
  const slot = (require("cluster-key-slot") as (k: string) => number)(key);
  const owner = cluster.slots[slot]?.[0];
  const node = cluster.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (node === undefined) {
    throw jobError(
      ErrorCode.BACKEND_UNAVAILABLE,
      `no connection to the master of slot ${slot} to wait for its replica`,
    );
  }
  return node;
}
