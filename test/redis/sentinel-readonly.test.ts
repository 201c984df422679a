/**
 * The Sentinel client's two guards, with a stand-in Sentinel that names
 * whatever node the test says (real Sentinels name a wrong node only for
 * a moment, see sentinel-failover.test.ts):
 *
 * - a node that the Sentinel names but that answers as a replica is never
 *   used: the client checks the role before its first command and asks
 *   the Sentinel again;
 * - a connection to a master that gets demoted under it answers READONLY:
 *   the client drops it, asks the Sentinel for the current master and
 *   writes there, instead of retrying the replica.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { type FakeSentinel, startFakeSentinel } from "../support/fake-sentinel.js";
import { type RedisHandle, startRedis, suiteWithRedis } from "../support/redis-server.js";

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const codeOf = (e: unknown) => (e as { code?: string }).code;

suiteWithRedis("Sentinel: a replica is never written to", ({ before, after, test }) => {
  let a: RedisHandle;
  let b: RedisHandle;
  let rawA: Redis;
  let rawB: Redis;
  let sentinel: FakeSentinel;
  const queues: RedisQueue[] = [];
  const open = (prefix: string) => {
    const q = new RedisQueue({
      sentinels: [{ host: "127.0.0.1", port: sentinel.port }],
      name: "mymaster",
      prefix,
      process: false,
      connectTimeoutMs: 500,
      commandTimeoutMs: 1_000,
      logger: { warn() {} },
    });
    queues.push(q);
    return q;
  };
  const linked = (c: Redis) => async () =>
    (await c.info("replication")).includes("master_link_status:up");

  before(async () => {
    a = await startRedis();
    b = await startRedis({ args: ["--replicaof", "127.0.0.1", String(a.port)] });
    rawA = new Redis(a.url);
    rawB = new Redis(b.url);
    await until("the replica linked", linked(rawB));
    sentinel = await startFakeSentinel(a.port);
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    rawA?.disconnect();
    rawB?.disconnect();
    await sentinel?.close();
    await b?.stop();
    await a?.stop();
  });

  test("a named node that answers as a replica is refused before any command", async () => {
    sentinel.point(b.port);
    const prefix = `ro-${randomUUID().slice(0, 8)}:`;
    const q = open(prefix);
    const askedBefore = sentinel.asked;
    await assert.rejects(
      () => q.enqueue(randomUUID(), "rq.pid", []),
      (e) => codeOf(e) === ErrorCode.BACKEND_UNAVAILABLE,
      "no connection is ready: the replica failed the role check",
    );
    assert.ok(sentinel.asked > askedBefore + 1, "the client asked the Sentinel again");
    const scripts = await rawB.info("commandstats");
    assert.doesNotMatch(scripts, /cmdstat_(evalsha|eval|fcall):/, "no script reached the replica");
    // Once the Sentinel names the master, the same queue works.
    sentinel.point(a.port);
    let id: string | undefined;
    await until("an enqueue through the master", async () => {
      id = await q.enqueue(randomUUID(), "rq.pid", []);
      return true;
    });
    assert.equal(await rawA.hget(`${prefix}job:${id}`, "s"), "pending");
  });

  test("READONLY from a demoted master: the client asks the Sentinel and writes to the new master", async () => {
    sentinel.point(a.port);
    const prefix = `ro-${randomUUID().slice(0, 8)}:`;
    const q = open(prefix);
    await q.enqueue(randomUUID(), "rq.pid", []);
    // B takes over and A becomes its replica, without closing A's clients
    // (as when a master is demoted under a connection that stays open).
    await rawB.call("REPLICAOF", "NO", "ONE");
    await rawA.call("REPLICAOF", "127.0.0.1", String(b.port));
    await until("A linked to B", linked(rawA));
    sentinel.point(b.port);
    const refusals: string[] = [];
    let id: string | undefined;
    await until("an enqueue after the demotion", async () => {
      try {
        id = await q.enqueue(randomUUID(), "rq.pid", []);
        return true;
      } catch (e) {
        refusals.push(String(codeOf(e)));
        if (codeOf(e) === ErrorCode.REDIS_READONLY) {
          assert.match((e as Error).message, /demoted .*asks the Sentinels for the current master/);
        }
        return false;
      }
    });
    console.log(
      `READONLY demotion: ${refusals.length} enqueue(s) refused before the new master took it (${refusals.join(", ") || "none"})`,
    );
    assert.ok(
      refusals.every((c) => c === ErrorCode.REDIS_READONLY || c === ErrorCode.BACKEND_UNAVAILABLE),
      `refusals are coded as a failover (${refusals.join(", ")})`,
    );
    assert.ok(refusals.length <= 3, `the replica was not retried (${refusals.length} refusals)`);
    assert.equal(
      await rawB.hget(`${prefix}job:${id}`, "s"),
      "pending",
      "written on the new master",
    );
    const clients = (await rawA.call("CLIENT", "LIST")) as string;
    assert.doesNotMatch(
      clients,
      new RegExp(`name=rapidai:${prefix} `),
      "the queue's command connection left the demoted master",
    );
    // Put the topology back for any later test: A master again, B its replica.
    await rawA.call("REPLICAOF", "NO", "ONE");
    await rawB.call("REPLICAOF", "127.0.0.1", String(a.port));
  });
});
