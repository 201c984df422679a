/**
 * A Redis queue on a real Redis Cluster (3 masters, 3 replicas): the
 * errors of a wrong deployment say what to change, a cluster queue runs
 * jobs, events and cancels across processes, and queues spread over the
 * shards. Failover while jobs run is in test/chaos/cluster-failover.test.ts.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { type RedisClusterHandle, startCluster } from "../support/redis-cluster.js";
import { describeWithRedis } from "../support/redis-server.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";

const CLUSTER_QUEUE = fileURLToPath(new URL("../fixtures/cluster-queue.js", import.meta.url));
const code = (e: unknown) => (e as { code?: string }).code;

describeWithRedis("a Redis queue on a Redis Cluster", () => {
  let cluster: RedisClusterHandle;
  const queues: RedisQueue[] = [];
  const workers: WorkerProcess[] = [];
  const open = (options: ConstructorParameters<typeof RedisQueue>[0]) => {
    const q = new RedisQueue({ logger: { warn() {} }, ...options });
    queues.push(q);
    return q;
  };

  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await Promise.all(queues.map((q) => q.close()));
    await cluster?.stop();
  });

  it("refuses a prefix without a {hash tag} in cluster mode, naming the fix", () => {
    assert.throws(
      () => new RedisQueue({ cluster: [{ host: "127.0.0.1", port: 7000 }] }),
      (e) => code(e) === ErrorCode.REDIS_CROSSSLOT && /\{hash tag\}/.test((e as Error).message),
    );
  });

  it("reports ERR_REDIS_MOVED, not 'unavailable', for a url at a node that does not serve the queue", async () => {
    const prefix = `{moved-${randomUUID().slice(0, 8)}}:`;
    const owner = await cluster.masterOf(prefix);
    const other = cluster.nodes.find((n) => n.port !== owner)!;
    const q = open({ url: `redis://127.0.0.1:${other.port}`, prefix, process: false });
    const t0 = Date.now();
    await assert.rejects(
      () => q.enqueue(randomUUID(), "rq.pid", []),
      (e) => code(e) === ErrorCode.REDIS_MOVED && /`cluster` option/.test((e as Error).message),
    );
    assert.ok(Date.now() - t0 < 2_000, "it fails at once");
    assert.equal(await q.getResult(randomUUID()).catch(code), ErrorCode.REDIS_MOVED);
  });

  it("reports ERR_REDIS_CROSSSLOT for an untagged prefix through a single url", async () => {
    // The node that owns the job key's slot takes the call, then refuses the other keys.
    const prefix = `plain-${randomUUID().slice(0, 8)}:`;
    const owner = await cluster.masterOf(`${prefix}ready`);
    const q = open({ url: `redis://127.0.0.1:${owner}`, prefix, process: false });
    await assert.rejects(
      () => q.enqueue(randomUUID(), "rq.pid", []),
      (e) => code(e) === ErrorCode.REDIS_CROSSSLOT && /hash tag/.test((e as Error).message),
    );
  });

  it("runs jobs of a worker process on the cluster, with events and a cancel across processes", async () => {
    const prefix = `{xp-${randomUUID().slice(0, 8)}}:`;
    workers.push(
      await startWorker({
        url: "",
        prefix,
        bare: true,
        threads: 2,
        modules: [CLUSTER_QUEUE],
        env: { RAPIDAI_TEST_CLUSTER: JSON.stringify(cluster.seeds), RAPIDAI_TEST_PREFIX: prefix },
      }),
    );
    const producer = open({ cluster: cluster.seeds, prefix, process: false });
    const completed: string[] = [];
    producer.on("completed", (e) => completed.push(e.jobId));
    const ids = await producer.enqueueMany(
      Array.from({ length: 20 }, () => ({ jobId: randomUUID(), task: "rq.pid", args: [] })),
    );
    for (const id of ids) {
      const r = await producer.waitFor(id, { timeoutMs: 15_000 });
      assert.equal(r.status, "completed");
      assert.equal(r.result, workers.at(-1)!.pid, "ran in the worker process");
    }
    assert.deepEqual(new Set(completed), new Set(ids), "a completed event for every job");
    // Sharded pub/sub: the events channel lives on the shard of the queue's slot only.
    const owner = await cluster.masterOf(prefix);
    const subs = await cluster.ask(owner, async (c) => ({
      sharded: (await c.call("PUBSUB", "SHARDNUMSUB", `${prefix}events`)) as [string, number],
      classic: (await c.call("PUBSUB", "NUMSUB", `${prefix}events`)) as [string, number],
    }));
    assert.ok(subs.sharded[1] >= 1, "the producer listens on a sharded channel");
    assert.equal(subs.classic[1], 0, "no classic subscription to it");

    const long = await producer.enqueue(randomUUID(), "rq.sleep", [60_000]);
    for (let i = 0; i < 300 && (await producer.getResult(long))?.progress !== "started"; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await producer.cancel(long), true);
    const r = await producer.waitFor(long, { timeoutMs: 10_000 }).catch((e) => e);
    assert.equal((await producer.getResult(long))?.status, "cancelled", String(r));
  });

  it("spreads queues over the shards, one process running them all", async () => {
    // One prefix per master: tags chosen until each shard has one.
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < 3 && i < 200; i++) {
      const prefix = `{shard-${i}-${randomUUID().slice(0, 4)}}:`;
      const m = await cluster.masterOf(prefix);
      if (!byMaster.has(m)) byMaster.set(m, prefix);
    }
    assert.equal(byMaster.size, 3, "a prefix on each of the 3 masters");
    const runners = [...byMaster.values()].map((prefix) =>
      open({ cluster: cluster.seeds, prefix, threads: 1 }),
    );
    for (const q of runners) await q.start();
    const results = await Promise.all(
      runners.map(async (q) =>
        q.waitFor(await q.enqueue(randomUUID(), "rq.pid", []), { timeoutMs: 15_000 }),
      ),
    );
    for (const r of results) assert.equal(r.status, "completed");
  });
});
