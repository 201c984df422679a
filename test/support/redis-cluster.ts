/**
 * A real local Redis Cluster for a test: 3 masters and 3 replicas on free
 * ports (`redis-server --cluster-enabled yes`, joined by `redis-cli
 * --cluster create --cluster-replicas 1`), with a short node timeout so a
 * killed master fails over in a few seconds. Helpers find the master that
 * owns a key's slot, fail it over by hand or kill it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Redis } from "ioredis";
import { ask, type RedisHandle, redisBinary, startRedis } from "./redis-server.js";
import { until as waitUntil } from "./until.js";

const run = promisify(execFile);

/** Milliseconds a node may be unreachable before the cluster fails it over. */
export const NODE_TIMEOUT_MS = 1_500;

export interface ClusterNodeHandle {
  readonly server: RedisHandle;
  readonly port: number;
}

export interface RedisClusterHandle {
  readonly nodes: ClusterNodeHandle[];
  /** Seed nodes for `new RedisQueue({ cluster })`. */
  readonly seeds: { host: string; port: number }[];
  /** The node (port) that serves `key`'s slot as master now. */
  masterOf(key: string): Promise<number>;
  /** The replica (port) of the master on `port`. */
  replicaOf(port: number): Promise<number>;
  /** Asks the replica to take over from its master (`CLUSTER FAILOVER`); resolves once it is master. */
  failover(replicaPort: number): Promise<void>;
  /** SIGKILLs the node on `port`. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again with its data (it rejoins as a replica). */
  restart(port: number): Promise<void>;
  /** Runs `fn` on a plain connection to the node on `port`. */
  ask<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T>;
  /** Resolves once every live node reports `cluster_state:ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function redisCli(): string {
  const server = redisBinary();
  return server === undefined ? "redis-cli" : server.replace(/redis-server$/, "redis-cli");
}

/** Waits for `check` (a failing check counts as not yet). */
function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  return waitUntil(`cluster: ${what}`, () => check().catch(() => false), timeoutMs, 100);
}

/** Starts the six nodes, creates the cluster and waits until it is healthy. */
export async function startCluster(): Promise<RedisClusterHandle> {
  const servers: RedisHandle[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      servers.push(
        await startRedis({
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            String(NODE_TIMEOUT_MS),
            "--appendonly",
            "yes",
          ],
        }),
      );
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  const nodes = servers.map((server) => ({ server, port: server.port }));
  const down = new Set<number>();
  const handle: RedisClusterHandle = {
    nodes,
    seeds: nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
    ask,
    async masterOf(key) {
      for (const n of nodes) {
        if (down.has(n.port)) continue;
        const line = await ask(n.port, async (c) => {
          const slot = (await c.call("CLUSTER", "KEYSLOT", key)) as number;
          const shards = (await c.call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
          const owner = shards.find(([from, to]) => slot >= from && slot <= to);
          return owner?.[2][1];
        }).catch(() => undefined);
        if (line !== undefined) return line;
      }
      throw new Error(`cluster: no live node knows who serves ${key}`);
    },
    async replicaOf(port) {
      const id = await ask(port, (c) => c.call("CLUSTER", "MYID") as Promise<string>);
      for (const n of nodes) {
        if (down.has(n.port) || n.port === port) continue;
        const role = await ask(n.port, (c) => c.call("ROLE") as Promise<unknown[]>);
        if (role[0] !== "slave" || role[2] !== port) continue;
        const nodesText = await ask(n.port, (c) => c.call("CLUSTER", "NODES") as Promise<string>);
        if (nodesText.includes(id)) return n.port;
      }
      throw new Error(`cluster: no replica of ${port}`);
    },
    async failover(replicaPort) {
      await ask(replicaPort, (c) => c.call("CLUSTER", "FAILOVER"));
      await until(
        `${replicaPort} becoming master`,
        () => ask(replicaPort, async (c) => ((await c.call("ROLE")) as unknown[])[0] === "master"),
        15_000,
      );
    },
    async kill(port) {
      down.add(port);
      await nodes.find((n) => n.port === port)!.server.kill("SIGKILL");
    },
    async restart(port) {
      await nodes.find((n) => n.port === port)!.server.restart();
      down.delete(port);
    },
    async waitHealthy(timeoutMs = 30_000) {
      await until(
        "cluster_state:ok on every node",
        async () => {
          for (const n of nodes) {
            if (down.has(n.port)) continue;
            const info = await ask(n.port, (c) => c.call("CLUSTER", "INFO") as Promise<string>);
            if (!info.includes("cluster_state:ok")) return false;
          }
          return true;
        },
        timeoutMs,
      );
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.server.stop()));
    },
  };
  try {
    await run(
      redisCli(),
      [
        "--cluster",
        "create",
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
    await handle.waitHealthy();
    // Every replica has its master's data stream before a test relies on it.
    await until(
      "every replica linked to its master",
      async () => {
        let linked = 0;
        for (const n of nodes) {
          const info = await ask(n.port, (c) => c.info("replication"));
          if (info.includes("master_link_status:up")) linked++;
        }
        return linked === 3;
      },
      30_000,
    );
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
