import assert from "node:assert/strict";
import { it } from "node:test";
import { ErrorCode, getQueue, RedisQueue, resetDefaultQueue } from "rapidai/background";

const invalid = (fn: () => unknown, name: RegExp) =>
  assert.throws(
    fn,
    (e) =>
      (e as { code?: string }).code === ErrorCode.INVALID_OPTION && name.test((e as Error).message),
  );

it("a RedisQueue checks every option at construction, naming the bad one", () => {
  invalid(() => new RedisQueue({ url: "http://localhost" }), /`url`/);
  invalid(() => new RedisQueue({ url: "not a url" }), /`url`/);
  invalid(() => new RedisQueue({ url: "redis://h/abc" }), /`url`/);
  invalid(() => new RedisQueue({ prefix: "" }), /`prefix`/);
  invalid(() => new RedisQueue({ process: "yes" as never }), /`process`/);
  invalid(() => new RedisQueue({ threads: 0 }), /`threads`/);
  invalid(() => new RedisQueue({ concurrencyPerThread: 1.5 }), /`concurrencyPerThread`/);
  invalid(() => new RedisQueue({ cancelGraceMs: -1 }), /`cancelGraceMs`/);
  invalid(() => new RedisQueue({ leaseMs: 10 }), /`leaseMs`/);
  invalid(() => new RedisQueue({ checkIntervalMs: 0 }), /`checkIntervalMs`/);
  invalid(() => new RedisQueue({ pollIntervalMs: -5 }), /`pollIntervalMs`/);
  invalid(() => new RedisQueue({ prefetch: -1 }), /`prefetch`/);
  invalid(() => new RedisQueue({ retention: { maxAgeMs: -1 } }), /`retention.maxAgeMs`/);
  invalid(() => new RedisQueue({ retention: { maxCount: 0.5 } }), /`retention.maxCount`/);
  invalid(() => new RedisQueue({ retention: { keep: 1 } as never }), /`retention.keep`/);
  invalid(() => new RedisQueue({ maxPayloadBytes: 0 }), /`maxPayloadBytes`/);
  invalid(() => new RedisQueue({ commandTimeoutMs: 0 }), /`commandTimeoutMs`/);
  invalid(() => new RedisQueue({ logger: {} as never }), /`logger`/);
  invalid(() => new RedisQueue({ urll: "redis://x" } as never), /`urll`/);
});

it("building a RedisQueue does no I/O: a queue for an unreachable host is made at once and closes cleanly", async () => {
  const q = new RedisQueue({ url: "redis://192.0.2.1:6379", prefix: "noio:" });
  assert.equal(q.backend, "redis");
  assert.equal(q.closed, false);
  assert.equal(q.prefix, "noio:");
  await q.close();
  assert.equal(q.closed, true);
});

it("getQueue('redis', { url }) builds the default queue as a RedisQueue", async () => {
  resetDefaultQueue();
  try {
    const q = getQueue("redis", { url: "redis://127.0.0.1:1", process: false });
    assert.ok(q instanceof RedisQueue);
    assert.equal(getQueue(), q);
    assert.throws(
      () => getQueue("redis", { url: "redis://127.0.0.1:2" }),
      (e) => (e as { code?: string }).code === ErrorCode.QUEUE_CONFLICT,
    );
    await q.close();
  } finally {
    resetDefaultQueue();
  }
});
