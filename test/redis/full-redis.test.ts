/**
 * A full Redis (`maxmemory` reached under `noeviction`): enqueues are refused
 * with ERR_BACKEND_FULL, the worker stops claiming and keeps the answers it
 * holds, renewals still go through, so no lease of a live worker expires,
 * and every answer is written once Redis takes writes again.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, JobError, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { QueueKeys } from "../../src/redis/queue-keys.js";
import { pendingInIndexes } from "../support/redis-scripts.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithRedis("a Redis queue when Redis is full (maxmemory, noeviction)", () => {
  let server: RedisHandle | undefined;
  const queues: RedisQueue[] = [];
  let raw: Redis | undefined;
  after(async () => {
    await raw?.config("SET", "maxmemory", "0").catch(() => {});
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 500 })));
    raw?.disconnect();
    await server?.stop();
  });

  it("stops claiming, keeps its answers, loses no lease, and writes them all once Redis has room again", async (t) => {
    server = await startRedis({ args: ["--maxmemory-policy", "noeviction"] });
    raw = new Redis(server.url);
    const prefix = `full:${randomUUID()}:`;
    const leaseMs = 1000;
    const producer = new RedisQueue({ url: server.url, prefix, process: false });
    queues.push(producer);
    const n = 300;
    const ids = await producer.enqueueMany(
      Array.from({ length: n }, (_, i) => ({ jobId: `f${i}`, task: "rq.sleep", args: [40] })),
    );
    const warnings: string[] = [];
    const errors: unknown[] = [];
    const worker = new RedisQueue({
      url: server.url,
      prefix,
      threads: 4,
      leaseMs,
      checkIntervalMs: 100,
      pollIntervalMs: 100,
      logger: { warn: (m) => warnings.push(m) },
    });
    queues.push(worker);
    worker.on("error", (e) => errors.push(e.error));
    await worker.start();
    await until("some jobs to complete", 20_000, async () => {
      return (await producer.countJobs()).completed >= 40;
    });

    // Redis is full from now on: every write that needs memory is refused.
    await raw.config("SET", "maxmemory", "1");
    const fullAt = Date.now();
    const refused = await producer.enqueue(randomUUID(), "rq.pid", []).then(
      () => undefined,
      (e: unknown) => e,
    );
    await until("the worker to report a problem", 10_000, async () => errors.length > 0);
    const stoppedAt = await pendingInIndexes(raw, new QueueKeys(prefix));
    // The fault lasts three leases: long enough for any lease left unrenewed to expire.
    await until("three leases to pass", 10_000, async () => Date.now() - fullAt > 3 * leaseMs);
    const pendingAfter = await pendingInIndexes(raw, new QueueKeys(prefix));
    const runningDuring = await raw.zcard(`${prefix}leases`);
    await raw.config("SET", "maxmemory", "0");

    await until("every job to end", 30_000, async () => {
      const c = await producer.countJobs();
      return c.completed + c.failed + c.cancelled === n;
    });
    const results = await Promise.all(ids.map((id) => producer.getResult(id)));
    const verdict = {
      ok: results.filter((r) => r?.status === "completed" && r.attempts === 1).length,
      rerun: results.filter((r) => r?.status === "completed" && r.attempts > 1).length,
      lost: results.filter((r) => r === undefined).length,
      stranded: results.filter((r) => r?.status === "pending" || r?.status === "running").length,
      wronglyFailed: results.filter((r) => r?.status === "failed").length,
    };
    t.diagnostic(`full Redis, ${n} jobs: ${JSON.stringify(verdict)}`);
    assert.ok(
      refused instanceof JobError &&
        refused.code === ErrorCode.BACKEND_FULL &&
        /out of memory/.test(refused.message),
      `an enqueue is refused as full: ${refused}`,
    );
    assert.ok(
      errors.some((e) => (e as JobError).code === ErrorCode.BACKEND_FULL),
      `the error event says Redis is full: ${errors.join("\n")}`,
    );
    assert.deepEqual(verdict, { ok: n, rerun: 0, lost: 0, stranded: 0, wronglyFailed: 0 });
    assert.ok(pendingAfter >= stoppedAt, "nothing was claimed while Redis was full");
    assert.ok(runningDuring > 0, "the claimed jobs kept their leases through the fault");
    assert.ok(
      warnings.some((w) => /out of memory/.test(w)),
      `the logger says Redis is full: ${warnings.join("\n")}`,
    );
    assert.ok(!warnings.some((w) => /expired lease/.test(w)), warnings.join("\n"));
  });
});
