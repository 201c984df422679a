import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";
import { until } from "../support/until.js";

describeWithRedis("retention and payloads of a Redis queue", () => {
  let server: RedisHandle;
  let raw: Redis;
  const queues: RedisQueue[] = [];
  before(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 500 })));
    raw?.disconnect();
    await server?.stop();
  });
  const queue = (o: Partial<ConstructorParameters<typeof RedisQueue>[0]> = {}) => {
    const q = new RedisQueue({
      url: server.url,
      prefix: `ret:${randomUUID()}:`,
      threads: 1,
      checkIntervalMs: 50,
      ...o,
    });
    queues.push(q);
    return q;
  };
  const keysOf = async (q: RedisQueue) =>
    (await raw.keys(`${q.prefix}*`)).filter((k) => k.includes(":job:")).length;

  it("keeps pace with jobs finishing fast: finished jobs stay near maxCount between checks", async () => {
    // No check for a minute: only the passes that follow written results trim.
    const q = queue({ threads: 2, checkIntervalMs: 60_000, retention: { maxCount: 100 } });
    await q.start();
    const jobs = Array.from({ length: 4000 }, () => ({
      jobId: randomUUID(),
      task: "rq.pid",
      args: [],
    }));
    await q.enqueueMany(jobs);
    await q.onIdle();
    // A pass follows every 500 jobs written as finished: at most 100 kept
    // plus fewer than 500 since the last pass, and a pass may still run.
    await until("the retention to catch up", async () => (await q.countJobs()).completed < 600);
    assert.ok((await keysOf(q)) < 600, `${await keysOf(q)} job hashes kept`);
  });

  it("keeps at most retention.maxCount finished jobs, deleting the oldest with their index entries", async () => {
    const q = queue({ retention: { maxCount: 3 } });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = await q.enqueue(`job-${i}-${randomUUID()}`, "rq.pid", []);
      await q.waitFor(id, { timeoutMs: 10_000 });
      ids.push(id);
    }
    await until("the oldest to go", async () => (await q.countJobs()).completed === 3);
    assert.deepEqual(
      (await q.listJobs()).map((j) => j.jobId),
      ids.slice(-3).reverse(),
    );
    assert.equal(await q.getResult(ids[0]!), undefined);
    assert.equal(await keysOf(q), 3, "no job hash left behind");
    assert.equal(await raw.zcard(`${q.prefix}done`), 3);
  });

  it("deletes finished jobs older than retention.maxAgeMs, and keeps pending ones", async () => {
    const q = queue({ retention: { maxAgeMs: 200 } });
    const done = await q.enqueue(randomUUID(), "rq.pid", []);
    await q.waitFor(done, { timeoutMs: 10_000 });
    const waiting = await q.enqueue(randomUUID(), "rq.pid", [], { delayMs: 60_000 });
    await until("the finished job to expire", async () => (await q.getResult(done)) === undefined);
    assert.equal((await q.getResult(waiting))?.status, "pending");
    assert.deepEqual(await q.countJobs(), {
      pending: 1,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    });
  });

  it("rejects arguments over maxPayloadBytes at enqueue, storing nothing", async () => {
    const q = queue({ maxPayloadBytes: 1024, process: false });
    await assert.rejects(
      () => q.enqueue(randomUUID(), "rq.pid", ["x".repeat(2000)]),
      (e) => (e as { code?: string }).code === ErrorCode.PAYLOAD_TOO_LARGE,
    );
    assert.equal(await keysOf(q), 0);
  });

  it("stores payloads as msgpack, not a format that runs code when read", async () => {
    const q = queue({ process: false });
    const id = await q.enqueue(randomUUID(), "rq.sleep", [{ at: new Date(0), big: 1n }], {
      delayMs: 60_000,
    });
    const bytes = await raw.hgetBuffer(`${q.prefix}job:${id}`, "a");
    // A msgpack fixarray of one element; v8's serialization would start with 0xff.
    assert.equal(bytes?.[0], 0x91);
    assert.deepEqual((await q.getResult(id))?.args, [{ at: new Date(0), big: 1n }]);
  });
});
