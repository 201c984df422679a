/**
 * A task module whose top-level await never settles, run by a Redis worker:
 * the job fails with ERR_TASK_MODULE_IMPORT after importTimeoutMs (no retry,
 * no lease renewed for ever) and the next job runs on a fresh thread.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/compute-hanging-import.js";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

describeWithRedis("a Redis worker and a task module whose import never settles", () => {
  const redis = redisFixture();
  let q: RedisQueue | undefined;
  after(() => q?.close({ timeoutMs: 500 }));

  it("fails the job with ERR_TASK_MODULE_IMPORT after importTimeoutMs and runs the next job", async () => {
    // Generous: the healthy job after the hung one imports its module on a
    // new thread within the same limit, on a machine that may be loaded.
    q = new RedisQueue({
      url: redis.server.url,
      prefix: `hang:${randomUUID()}:`,
      threads: 1,
      importTimeoutMs: 1500,
      logger: { warn() {} },
    });
    const hung = await q.waitFor(await q.enqueue("hung", "hangingImportTask", []), {
      timeoutMs: 10_000,
    });
    assert.equal(hung.status, "failed");
    assert.equal(hung.errorCode, ErrorCode.TASK_MODULE_IMPORT);
    assert.equal(hung.attempts, 1, "not retried");
    assert.equal(await redis.raw.zcard(`${q.prefix}leases`), 0, "no lease left behind");
    const next = await q.waitFor(await q.enqueue("next", "rq.pid", []), { timeoutMs: 10_000 });
    assert.equal(next.status, "completed");
  });
});
