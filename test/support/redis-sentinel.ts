/**
 * A real Sentinel deployment for a test: one master, one replica
 * (`--replicaof`) and three Sentinels (`redis-server <conf> --sentinel`,
 * quorum 2), each with its own configuration file in a temporary directory
 * and on a free port. `down-after-milliseconds` is short, so a killed
 * master fails over in about two seconds.
 *
 * The master and the replica run from configuration files too, as they do
 * in production: Sentinel rewrites them (`CONFIG REWRITE`) when it turns a
 * node into a replica. `restartWithOldConfig` puts back the file a node
 * started with, so a killed master comes back believing it is the master,
 * until Sentinel notices and demotes it: the stale-master window.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { ask, type RedisHandle, startRedis } from "./redis-server.js";
import { until as waitUntil } from "./until.js";

/** The master's name in the Sentinels' configuration. */
export const MASTER_NAME = "mymaster";
/** Milliseconds without an answer before a Sentinel thinks the master is down. */
export const DOWN_AFTER_MS = 1_000;
/** Sentinel's `failover-timeout` (also how long before a failed failover is tried again). */
export const FAILOVER_TIMEOUT_MS = 3_000;

export interface DataNode {
  readonly server: RedisHandle;
  readonly port: number;
  /** Its configuration file (Sentinel may rewrite it). */
  readonly config: string;
}

export interface SentinelHandle {
  /** The node that was master at start, then the one that was its replica. */
  readonly nodes: [DataNode, DataNode];
  readonly sentinels: RedisHandle[];
  /** For `new RedisQueue({ sentinels, name: MASTER_NAME })`. */
  readonly addresses: { host: string; port: number }[];
  /** The port every live Sentinel names as the master, or undefined while they disagree. */
  masterPort(): Promise<number | undefined>;
  /** Resolves once every Sentinel names the node on `port` as master (and it says it is). */
  waitForMaster(port: number, timeoutMs?: number): Promise<void>;
  /** Resolves once the replica on `port` is linked to a master and has its data. */
  waitForLinkedReplica(port: number, timeoutMs?: number): Promise<void>;
  /** `ROLE` of the node on `port`: "master" or "slave". */
  role(port: number): Promise<string>;
  /** SIGKILLs the data node on `port`. */
  kill(port: number): Promise<void>;
  /**
   * Starts the node on `port` again with the configuration file it had at
   * start (the master comes back as a master, with its AOF data).
   */
  restartWithOldConfig(port: number): Promise<void>;
  /** Runs `fn` on a plain connection to `port`. */
  ask<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** Waits for `check` (a failing check counts as not yet). */
function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  return waitUntil(`sentinel: ${what}`, () => check().catch(() => false), timeoutMs, 50);
}

/** Starts master, replica and three Sentinels; resolves once all Sentinels know both nodes. */
export async function startSentinels(): Promise<SentinelHandle> {
  const dir = mkdtempSync(join(tmpdir(), "rapidai-sentinel-"));
  const started: RedisHandle[] = [];
  const startNode = async (name: string, lines: string[]): Promise<DataNode> => {
    const config = join(dir, `${name}.conf`);
    writeFileSync(config, `${lines.join("\n")}\n`);
    const server = await startRedis({ config, appendonly: true });
    started.push(server);
    return { server, port: server.port, config };
  };
  try {
    const master = await startNode("master", ["# the master at start"]);
    const replica = await startNode("replica", [`replicaof 127.0.0.1 ${master.port}`]);
    const sentinels: RedisHandle[] = [];
    for (let i = 0; i < 3; i++) {
      const config = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        config,
        [
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          "",
        ].join("\n"),
      );
      const s = await startRedis({ config, sentinel: true });
      started.push(s);
      sentinels.push(s);
    }
    const handle = sentinelHandle(dir, [master, replica], sentinels);
    await handle.waitForLinkedReplica(replica.port);
    // Every Sentinel has found the replica and the two other Sentinels
    // (through the hello channel), so a failover can be agreed on.
    await until(
      "every Sentinel knowing the replica and the other Sentinels",
      async () => {
        for (const s of sentinels) {
          const [replicas, peers] = await ask(s.port, (c) =>
            Promise.all([
              c.call("SENTINEL", "REPLICAS", MASTER_NAME) as Promise<unknown[]>,
              c.call("SENTINEL", "SENTINELS", MASTER_NAME) as Promise<unknown[]>,
            ]),
          );
          if (replicas.length < 1 || peers.length < 2) return false;
        }
        return true;
      },
      30_000,
    );
    return handle;
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function sentinelHandle(
  dir: string,
  nodes: [DataNode, DataNode],
  sentinels: RedisHandle[],
): SentinelHandle {
  const firstConfig = new Map(nodes.map((n) => [n.port, readFileSync(n.config, "utf8")]));
  const node = (port: number) => {
    const n = nodes.find((x) => x.port === port);
    if (n === undefined) throw new Error(`sentinel: no data node on ${port}`);
    return n;
  };
  const role = (port: number) =>
    ask(port, async (c) => ((await c.call("ROLE")) as unknown[])[0] as string);
  const handle: SentinelHandle = {
    nodes,
    sentinels,
    addresses: sentinels.map((s) => ({ host: "127.0.0.1", port: s.port })),
    ask,
    role,
    async masterPort() {
      const named = new Set<number>();
      for (const s of sentinels) {
        const addr = await ask(
          s.port,
          (c) => c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME) as Promise<string[]>,
        );
        named.add(Number(addr[1]));
      }
      return named.size === 1 ? [...named][0] : undefined;
    },
    async waitForMaster(port, timeoutMs = 30_000) {
      await until(
        `every Sentinel naming ${port} as master`,
        async () => (await handle.masterPort()) === port && (await role(port)) === "master",
        timeoutMs,
      );
    },
    async waitForLinkedReplica(port, timeoutMs = 30_000) {
      await until(
        `${port} linked to its master`,
        () =>
          ask(port, async (c) => {
            const info = await c.info("replication");
            return (
              info.includes("role:slave") &&
              info.includes("master_link_status:up") &&
              info.includes("master_sync_in_progress:0")
            );
          }),
        timeoutMs,
      );
    },
    async kill(port) {
      await node(port).server.kill("SIGKILL");
    },
    async restartWithOldConfig(port) {
      const n = node(port);
      writeFileSync(n.config, firstConfig.get(port)!);
      await n.server.restart();
    },
    async stop() {
      await Promise.all([...sentinels, ...nodes.map((n) => n.server)].map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
