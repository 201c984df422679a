import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { QueueKeys } from "../../src/redis/queue-keys.js";
import { pendingIndexed } from "../support/redis-scripts.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

const code = (e: unknown) => (e as { code?: string }).code;

describeWithRedis("a Redis queue when Redis fails", () => {
  const servers: RedisHandle[] = [];
  const queues: RedisQueue[] = [];
  after(async () => {
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 500 })));
    await Promise.all(servers.map((s) => s.stop()));
  });
  const server = async (o: Parameters<typeof startRedis>[0] = {}) => {
    const s = await startRedis(o);
    servers.push(s);
    return s;
  };
  const queue = (url: string, o: Partial<ConstructorParameters<typeof RedisQueue>[0]> = {}) => {
    const q = new RedisQueue({
      url,
      prefix: `faults:${randomUUID()}:`,
      threads: 1,
      logger: { warn() {} },
      ...o,
    });
    queues.push(q);
    return q;
  };

  it("rejects each enqueue within about a second with ERR_BACKEND_UNAVAILABLE while Redis is down, storing nothing", async () => {
    const s = await server();
    const q = queue(s.url, { process: false });
    await s.kill("SIGKILL");
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => q.enqueue(`down-${i}`, "rq.pid", [i])),
    );
    const elapsed = Date.now() - started;
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.equal(code(r.reason), ErrorCode.BACKEND_UNAVAILABLE);
      assert.match((r.reason as Error).message, /unavailable/);
    }
    assert.ok(elapsed < 2_500, `all rejected in ${elapsed} ms`);
    await s.restart();
    assert.deepEqual(await q.countJobs(), {
      pending: 0,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    });
  });

  it("rejects an enqueue to a hung Redis after the command timeout, and the job is then whole or absent", async () => {
    const s = await server();
    const q = queue(s.url, { process: false, commandTimeoutMs: 300 });
    await q.enqueue("before", "rq.pid", []);
    await s.kill("SIGSTOP");
    const t0 = Date.now();
    await assert.rejects(
      () => q.enqueue("during", "rq.pid", [1]),
      (e) => code(e) === ErrorCode.BACKEND_UNAVAILABLE,
    );
    assert.ok(Date.now() - t0 < 1_500);
    await s.kill("SIGCONT");
    const raw = new Redis(s.url);
    try {
      const hash = await raw.hgetall(`${q.prefix}job:during`);
      const indexed = await pendingIndexed(raw, new QueueKeys(q.prefix), "during");
      if (Object.keys(hash).length === 0)
        assert.equal(indexed, false, "absent: not indexed either");
      else {
        assert.equal(hash.s, "pending");
        assert.equal(indexed, true, "whole: stored and indexed");
      }
    } finally {
      raw.disconnect();
    }
  });

  it("waits for a slow first connection past the command timeout (up to connectTimeoutMs)", async () => {
    // A busy machine: Redis accepts the connection but answers late. The first
    // connection is several round trips and must not fail on one command's timeout.
    const s = await server();
    const q = queue(s.url, { process: false, commandTimeoutMs: 200, connectTimeoutMs: 10_000 });
    await s.kill("SIGSTOP");
    const pending = q.enqueue("slow-first", "rq.pid", []);
    // Resume Redis well after the command timeout has passed.
    await new Promise((r) => setTimeout(r, 1_000));
    await s.kill("SIGCONT");
    assert.equal(await pending, "slow-first");
    assert.equal((await q.countJobs()).pending, 1);
  });

  it("starts a worker while Redis is down, and runs jobs once it is up", async () => {
    const s = await server();
    const url = s.url;
    await s.kill("SIGKILL");
    const q = queue(url, { pollIntervalMs: 100 });
    await q.start();
    await new Promise((r) => setTimeout(r, 300));
    await s.restart();
    const r = await q.waitFor(await q.enqueue(randomUUID(), "rq.pid", []), { timeoutMs: 10_000 });
    assert.equal(r.status, "completed");
  });

  it("resumes running jobs after Redis restarts with its data (AOF)", async () => {
    const s = await server({ appendonly: true });
    const producer = queue(s.url, { process: false });
    const ids = await producer.enqueueMany(
      Array.from({ length: 30 }, () => ({ jobId: randomUUID(), task: "rq.sleep", args: [50] })),
    );
    const q = new RedisQueue({
      url: s.url,
      prefix: producer.prefix,
      threads: 2,
      pollIntervalMs: 100,
      // A claim the server applied but whose reply the kill cut off is only
      // found again when its lease expires: keep the lease short.
      leaseMs: 2_000,
      logger: { warn() {} },
    });
    queues.push(q);
    await q.start();
    await new Promise((r) => setTimeout(r, 300));
    await s.restart({ hard: true });
    const deadline = Date.now() + 20_000;
    let counts = await producer.countJobs().catch(() => undefined);
    while (Date.now() < deadline && counts?.completed !== ids.length) {
      await new Promise((r) => setTimeout(r, 100));
      counts = await producer.countJobs().catch(() => undefined);
    }
    assert.equal(counts?.completed, ids.length, "every job completed after the restart");
  });

  it("warns at start-up when Redis may evict keys, and not with noeviction", async () => {
    const evicting = await server({ args: ["--maxmemory-policy", "allkeys-lru"] });
    const warnings: string[] = [];
    const q = queue(evicting.url, { process: false, logger: { warn: (m) => warnings.push(m) } });
    await q.countJobs();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      warnings.some((w) => /maxmemory-policy "allkeys-lru"/.test(w) && /noeviction/.test(w)),
      warnings.join("\n"),
    );
    const safe = await server();
    const quiet: string[] = [];
    const q2 = queue(safe.url, { process: false, logger: { warn: (m) => quiet.push(m) } });
    await q2.countJobs();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(quiet, []);
  });
});
