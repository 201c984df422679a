import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ErrorCode } from "rapidai/background";
import {
  identity,
  sleepPastTimeout,
  slowFirstAttempt,
  spinPastTimeout,
} from "../fixtures/core-tasks.js";
import { closeQueues, enqueue, openQueue, recordEvents, runToEnd, threadOf } from "./helpers.js";

after(() => closeQueues());

describe("timeouts", () => {
  it("ends an attempt past timeoutMs as a failure coded ERR_JOB_TIMEOUT, and retries it", async () => {
    const queue = openQueue({ threads: 1, cancelGraceMs: 100 });
    // A thread's first job also imports the task module, which counts
    // against its time: warm the thread first.
    await threadOf(queue);
    const events = recordEvents(queue);
    const id = await enqueue(queue, slowFirstAttempt);
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "completed", r.error);
    assert.equal(r.result, 2);
    assert.equal(r.attempts, 2);
    const retrying = events.retrying.filter((e) => e.jobId === id);
    assert.equal(retrying.length, 1);
    assert.equal(retrying[0]?.code, ErrorCode.TIMEOUT);
    assert.equal(retrying[0]?.attempt, 1);
    assert.match(retrying[0]?.error ?? "", /timed out after 150 ms/);
  });

  it("tells a cooperative job through its signal, which then fails without losing its thread", async () => {
    const queue = openQueue({ threads: 1, cancelGraceMs: 20_000 });
    const events = recordEvents(queue);
    const thread = await threadOf(queue);
    const r = await runToEnd(queue, sleepPastTimeout, 60_000);
    assert.equal(r.status, "failed");
    assert.equal(r.errorCode, ErrorCode.TIMEOUT);
    assert.equal(r.attempts, 3, "two retries after the first timeout");
    assert.match(r.error ?? "", /timed out/);
    assert.equal(events.retrying.length, 2);
    assert.ok(events.retrying.every((e) => e.code === ErrorCode.TIMEOUT));
    assert.equal(events.failed.at(-1)?.code, ErrorCode.TIMEOUT);
    assert.equal(await threadOf(queue), thread, "a cooperative stop keeps the thread");
    assert.deepEqual(
      events.progress.map((e) => e.progress),
      ["aborted: ERR_JOB_TIMEOUT", "aborted: ERR_JOB_TIMEOUT", "aborted: ERR_JOB_TIMEOUT"],
      "each attempt saw its signal abort, with a timeout reason",
    );
  });

  it("terminates a job that never yields once the grace period is over, and the pool replaces its thread", async () => {
    const queue = openQueue({ threads: 1, cancelGraceMs: 100 });
    const thread = await threadOf(queue);
    const r = await runToEnd(queue, spinPastTimeout, 60_000);
    assert.equal(r.status, "failed");
    assert.equal(r.errorCode, ErrorCode.TIMEOUT);
    assert.equal(r.attempts, 1);
    assert.notEqual(await threadOf(queue), thread);
    const later = await runToEnd(queue, identity, "after");
    assert.equal(later.result, "after");
  });

  it("leaves a job that finishes in time alone", async () => {
    const queue = openQueue({ threads: 1 });
    await threadOf(queue);
    const r = await runToEnd(queue, sleepPastTimeout, 5);
    assert.equal(r.status, "completed");
    assert.equal(r.result, 5);
  });
});
