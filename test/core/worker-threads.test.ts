import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { threadId } from "node:worker_threads";
import { ErrorCode, JobError } from "rapidai/background";
import {
  viaFactoryModulePath,
  viaFactoryModuleUrl,
  viaFactoryNoModule,
} from "../fixtures/core-factory-tasks.js";
import { sleep, whereAmI } from "../fixtures/core-tasks.js";
import {
  caught,
  closeQueues,
  enqueue,
  openQueue,
  runToEnd,
  startBody,
  waitAll,
} from "./helpers.js";

after(() => closeQueues());

describe("job bodies on worker threads", () => {
  it("runs every job body off the main thread, with currentJob() naming the job", async () => {
    const queue = openQueue({ threads: 2 });
    const ids = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => enqueue(queue, whereAmI, `job ${n}`)),
    );
    const results = await waitAll(queue, ids);
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, "completed", r.error);
      const body = r.result as Awaited<ReturnType<typeof whereAmI>>;
      assert.equal(body.isMainThread, false);
      assert.notEqual(body.threadId, threadId);
      assert.equal(body.jobId, ids[i]);
      assert.equal(body.afterAwait, ids[i], "currentJob() follows the job across awaits");
      assert.equal(body.attempt, 1);
      assert.equal(body.task, "whereAmI");
      assert.equal(body.tag, `job ${i + 1}`);
    }
    const threads = new Set(results.map((r) => (r.result as { threadId: number }).threadId));
    assert.ok(threads.size >= 1 && threads.size <= 2, `ran on ${threads.size} threads`);
  });

  it("imports the module given as `module` (a URL or a path) to find a task defined through a helper", async () => {
    const queue = openQueue();
    const byUrl = await runToEnd(queue, viaFactoryModuleUrl, 21);
    assert.equal(byUrl.status, "completed", byUrl.error);
    assert.deepEqual(byUrl.result, { doubled: 42, isMainThread: false });
    const byPath = await runToEnd(queue, viaFactoryModulePath, 5);
    assert.equal(byPath.status, "completed", byPath.error);
    assert.deepEqual(byPath.result, { tripled: 15, isMainThread: false });
  });

  it("imports the caller of background() by default, and fails at once when that module does not define the task", async () => {
    // The helper module called background(), so a fresh thread imports it and
    // finds no such task there: a permanent error, not retried.
    const queue = openQueue();
    const r = await runToEnd(queue, viaFactoryNoModule, 1);
    assert.equal(r.status, "failed");
    assert.equal(r.errorCode, ErrorCode.UNKNOWN_TASK);
    assert.match(r.error ?? "", /viaFactoryNoModule/);
    assert.equal(r.attempts, 1);
    assert.equal(r.maxRetries, 2);
  });

  it("runs several jobs at once on one thread with concurrencyPerThread, each with its own cancel", async () => {
    const queue = openQueue({ threads: 1, concurrencyPerThread: 2, cancelGraceMs: 20_000 });
    const a = await startBody(queue, sleep, 60_000);
    const b = await startBody(queue, sleep, 200);
    assert.equal((await queue.getResult(a))?.status, "running");
    assert.equal(await queue.cancel(a), true);
    const rb = await queue.waitFor(b, { timeoutMs: 20_000 });
    assert.equal(rb.status, "completed", "the other job on the thread carries on");
    assert.equal((await queue.getResult(a))?.status, "cancelled");
  });

  it("rejects a job for a task name no background() call registered, at enqueue, storing nothing", async () => {
    const queue = openQueue();
    const before = await queue.countJobs();
    const error = await caught(() => queue.enqueue(randomUUID(), "noSuchTask", []));
    assert.ok(error instanceof JobError);
    assert.equal(error.code, ErrorCode.UNKNOWN_TASK);
    assert.match(error.message, /noSuchTask/);
    const byRef = await caught(() =>
      queue.enqueue(randomUUID(), { taskName: "../../evil.js" }, []),
    );
    assert.equal(byRef.code, ErrorCode.UNKNOWN_TASK);
    assert.deepEqual(await queue.countJobs(), before);
    assert.deepEqual(await queue.listJobs(), []);
  });

  it("accepts a task by its name as well as by the task itself", async () => {
    const queue = openQueue();
    const r = await runToEnd(queue, "whereAmI", "by name");
    assert.equal(r.status, "completed", r.error);
    assert.equal((r.result as { tag: string }).tag, "by name");
  });
});
