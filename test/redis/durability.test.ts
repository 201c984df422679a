/**
 * `durability: "replicated"`: an enqueue is acknowledged only once a
 * replica has the job (WAIT 1), and fails with ERR_REPLICATION_TIMEOUT,
 * within the timeout, when no replica acknowledges. Against a real master
 * and replica. Also prints what the wait costs beside the default.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

describeWithRedis("durability: replicated", () => {
  let master: RedisHandle;
  let replica: RedisHandle;
  let replicaClient: Redis;
  const queues: RedisQueue[] = [];

  before(async () => {
    master = await startRedis();
    replica = await startRedis({ args: ["--replicaof", "127.0.0.1", String(master.port)] });
    replicaClient = new Redis(replica.url);
    const end = Date.now() + 15_000;
    while (!(await replicaClient.info("replication")).includes("master_link_status:up")) {
      if (Date.now() > end) throw new Error("the replica did not link to its master");
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    replicaClient?.disconnect();
    await replica?.stop();
    await master?.stop();
  });

  const open = (durability: "master" | "replicated", prefix: string) => {
    const q = new RedisQueue({
      url: master.url,
      prefix,
      process: false,
      durability,
      replicationTimeoutMs: 300,
    });
    queues.push(q);
    return q;
  };

  it("acknowledges an enqueue only once the replica has the job", async () => {
    const prefix = `{dur-${randomUUID().slice(0, 8)}}:`;
    const q = open("replicated", prefix);
    for (let i = 0; i < 20; i++) {
      const id = await q.enqueue(randomUUID(), "rq.pid", []);
      // Read straight from the replica right after the acknowledgement.
      assert.equal(await replicaClient.hget(`${prefix}job:${id}`, "s"), "pending");
    }
  });

  it("fails with ERR_REPLICATION_TIMEOUT when no replica acknowledges in time", async () => {
    const q = open("replicated", `{dur-${randomUUID().slice(0, 8)}}:`);
    await q.enqueue(randomUUID(), "rq.pid", []);
    await replica.kill("SIGSTOP");
    try {
      const t0 = Date.now();
      await assert.rejects(
        () => q.enqueue(randomUUID(), "rq.pid", []),
        (e) =>
          (e as { code?: string }).code === ErrorCode.REPLICATION_TIMEOUT &&
          /replica/.test((e as Error).message),
      );
      const took = Date.now() - t0;
      assert.ok(took >= 250 && took < 1_000, `failed after the 300 ms timeout (${took} ms)`);
      const plain = open("master", `{dur-${randomUUID().slice(0, 8)}}:`);
      await plain.enqueue(randomUUID(), "rq.pid", []);
    } finally {
      await replica.kill("SIGCONT");
    }
  });

  it("holds every job of a burst on the replica once acknowledged (its cost printed beside the default)", async () => {
    const N = 500;
    const time = async (durability: "master" | "replicated") => {
      const prefix = `{dur-${randomUUID().slice(0, 8)}}:`;
      const q = open(durability, prefix);
      await q.enqueue(randomUUID(), "rq.pid", []);
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await q.enqueue(randomUUID(), "rq.pid", []);
      const one = (performance.now() - t0) / N;
      const t1 = performance.now();
      const ids = await Promise.all(
        Array.from({ length: N }, () => q.enqueue(randomUUID(), "rq.pid", [])),
      );
      const batched = (performance.now() - t1) / N;
      const onReplica = await Promise.all(
        ids.map((id) => replicaClient.exists(`${prefix}job:${id}`)),
      );
      return { one, batched, onReplica: onReplica.filter((e) => e === 1).length };
    };
    const m = await time("master");
    const r = await time("replicated");
    console.log(
      `durability cost, ${N} enqueues: one at a time ${m.one.toFixed(3)} ms (master) vs ${r.one.toFixed(3)} ms (replicated); ` +
        `${N} at once ${m.batched.toFixed(4)} vs ${r.batched.toFixed(4)} ms per job`,
    );
    assert.equal(r.onReplica, N, "every acknowledged job of the burst is on the replica");
  });
});
