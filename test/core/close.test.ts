import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { ErrorCode, InMemoryQueue, JobError } from "rapidai/background";
import {
  failFixed,
  identity,
  sleep,
  sleepStubbornly,
  spinStubbornly,
} from "../fixtures/core-tasks.js";
import {
  caught,
  closeQueues,
  delay,
  enqueue,
  openQueue,
  osThreadCount,
  recordEvents,
  settledThreadCount,
  startBody,
} from "./helpers.js";

after(() => closeQueues());

describe("close()", () => {
  it("waits for running jobs to finish, which complete normally", async () => {
    const queue = openQueue({ threads: 1 });
    const order: string[] = [];
    queue.on("completed", () => order.push("completed"));
    const id = await startBody(queue, sleep, 200);
    await queue.close().then(() => order.push("closed"));
    assert.deepEqual(order, ["completed", "closed"]);
    const r = await queue.getResult(id);
    assert.equal(r?.status, "completed");
    assert.equal(r?.result, 200);
  });

  it("rejects enqueue and start after close with ERR_QUEUE_CLOSED, storing nothing", async () => {
    const queue = openQueue();
    await queue.close();
    assert.equal(queue.closed, true);
    const error = await caught(() => queue.enqueue(randomUUID(), identity, [1]));
    assert.ok(error instanceof JobError);
    assert.equal(error.code, ErrorCode.QUEUE_CLOSED);
    assert.equal((await caught(() => queue.start())).code, ErrorCode.QUEUE_CLOSED);
    assert.deepEqual(await queue.listJobs(), []);
    const counts = await queue.countJobs();
    assert.equal(
      Object.values(counts).reduce((a, b) => a + b, 0),
      0,
    );
  });

  it("is idempotent: a second call returns the same promise and no error", async () => {
    const queue = openQueue();
    await queue.waitFor(await enqueue(queue, identity, 1), { timeoutMs: 20_000 });
    const first = queue.close();
    const second = queue.close();
    assert.equal(first, second);
    await Promise.all([first, second]);
    await queue.close();
    await queue.close({ timeoutMs: 10 });
  });

  it("closes a queue that never started without starting a thread", async () => {
    const before = await settledThreadCount();
    const queue = new InMemoryQueue({ threads: 2 });
    await queue.close();
    assert.equal(queue.closed, true);
    // Fewer is an earlier pool's thread leaving late; more would be ours.
    const after = osThreadCount();
    if (before !== undefined && after !== undefined)
      assert.ok(after <= before, `${before} → ${after}`);
  });

  it("takes no new work: a job still waiting when close() is called never starts", async () => {
    const queue = openQueue({ threads: 1 });
    const events = recordEvents(queue);
    const busy = await startBody(queue, sleep, 150);
    const waiting = await enqueue(queue, identity, "waiting");
    const delayed = randomUUID();
    await queue.enqueue(delayed, identity, ["delayed"], { delayMs: 30 });
    await queue.close();
    await delay(100);
    assert.deepEqual(
      events.started.map((e) => e.jobId),
      [busy],
    );
    assert.equal((await queue.getResult(waiting))?.status, "pending");
    assert.equal((await queue.getResult(delayed))?.status, "pending");
  });

  it("with timeoutMs, stops jobs still running after the timeout, even ones that ignore cancellation", async () => {
    const queue = openQueue({ threads: 2, cancelGraceMs: 60_000 });
    const spinning = await startBody(queue, spinStubbornly, 60_000);
    const sleeping = await startBody(queue, sleepStubbornly, 60_000);
    const t0 = Date.now();
    await queue.close({ timeoutMs: 100 });
    const took = Date.now() - t0;
    assert.ok(took >= 90, `closed after ${took} ms, before its timeout`);
    assert.ok(took < 15_000, `closed after ${took} ms`);
    assert.equal((await queue.getResult(spinning))?.status, "cancelled");
    assert.equal((await queue.getResult(sleeping))?.status, "cancelled");
  });

  it("with timeoutMs, lets jobs that finish in time complete", async () => {
    const queue = openQueue({ threads: 1 });
    const id = await startBody(queue, sleep, 50);
    await queue.close({ timeoutMs: 10_000 });
    assert.equal((await queue.getResult(id))?.status, "completed");
  });

  it("does not hang on a job waiting out a retry backoff", async () => {
    const queue = openQueue({ threads: 1 });
    const id = await enqueue(queue, failFixed);
    while ((await queue.getResult(id))?.attempts === 0) await delay(5);
    await queue.close();
    const r = await queue.getResult(id);
    assert.ok(r !== undefined && r.attempts >= 1);
  });
});
