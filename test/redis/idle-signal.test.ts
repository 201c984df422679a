import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { Redis } from "ioredis";
import { RedisQueue } from "rapidai/background";
import { parseEventMessage } from "../../src/redis/event-codec.js";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

describeWithRedis("onIdle() across processes", () => {
  let server: RedisHandle;
  let sub: Redis;
  const queues: RedisQueue[] = [];
  before(async () => {
    server = await startRedis();
    sub = new Redis(server.url);
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    sub?.disconnect();
    await server?.stop();
  });

  it("waits on one idle record per script call, not on a record of every job", async () => {
    const prefix = `idle:${randomUUID()}:`;
    const kinds: string[] = [];
    await sub.subscribe(`${prefix}events`);
    sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
      for (const r of parseEventMessage(message)) kinds.push(r.kind);
    });
    // The producer runs nothing: only records from the worker's scripts tell it the jobs ended.
    const producer = new RedisQueue({ url: server.url, prefix, process: false });
    const worker = new RedisQueue({ url: server.url, prefix, threads: 1 });
    queues.push(producer, worker);
    const ids = await producer.enqueueMany(
      Array.from({ length: 40 }, () => ({ jobId: randomUUID(), task: "rq.sleep", args: [0] })),
    );
    const idle = producer.onIdle();
    await worker.start();
    await idle;
    for (const id of ids) assert.equal((await producer.getResult(id))?.status, "completed");
    assert.ok(kinds.includes("I"), `the scripts published idle records (got ${kinds.join("")})`);
    assert.ok(
      !kinds.some((k) => k === "C" || k === "S"),
      `no per-job record while nobody listens to them (got ${kinds.join("")})`,
    );
  });
});
