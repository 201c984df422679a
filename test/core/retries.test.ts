import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import type { JobQueue } from "rapidai/background";
import {
  alwaysFail,
  failExponential,
  failFixed,
  failJitter,
  failTimes,
  throwKind,
} from "../fixtures/core-tasks.js";
import { echo } from "../fixtures/tasks.js";
import { closeQueues, enqueue, openQueue, recordEvents } from "./helpers.js";

after(() => closeQueues());

/** For one job: when each attempt started and when each retry was scheduled (ms). */
function timeline(queue: JobQueue, jobId: string) {
  const starts: number[] = [];
  const retries: { at: number; delayMs: number }[] = [];
  queue.on("started", (e) => {
    if (e.jobId === jobId) starts.push(performance.now());
  });
  queue.on("retrying", (e) => {
    if (e.jobId === jobId) retries.push({ at: performance.now(), delayMs: e.delayMs });
  });
  return { starts, retries };
}

describe("retries", () => {
  const queue = openQueue({ threads: 2 });

  it("runs a job once when maxRetries is 0", async () => {
    const events = recordEvents(queue);
    const id = await enqueue(queue, alwaysFail, "once");
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "failed");
    assert.equal(r.attempts, 1);
    assert.equal(r.maxRetries, 0);
    assert.equal(r.error, "once (attempt 1)");
    assert.equal(events.retrying.filter((e) => e.jobId === id).length, 0);
    assert.equal(events.started.filter((e) => e.jobId === id).length, 1);
  });

  it("runs a job three times when maxRetries is 2, and fails with the last error", async () => {
    const events = recordEvents(queue);
    const id = randomUUID();
    await queue.enqueue(id, alwaysFail, ["thrice"], { maxRetries: 2 });
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "failed");
    assert.equal(r.attempts, 3);
    assert.equal(r.maxRetries, 2);
    assert.equal(r.error, "thrice (attempt 3)");
    assert.deepEqual(
      events.started.filter((e) => e.jobId === id).map((e) => e.attempt),
      [1, 2, 3],
    );
    const retrying = events.retrying.filter((e) => e.jobId === id);
    assert.deepEqual(
      retrying.map((e) => ({
        attempt: e.attempt,
        error: e.error,
        delayMs: e.delayMs,
        task: e.task,
      })),
      [
        { attempt: 1, error: "thrice (attempt 1)", delayMs: 1, task: "alwaysFail" },
        { attempt: 2, error: "thrice (attempt 2)", delayMs: 1, task: "alwaysFail" },
      ],
    );
    const failed = events.failed.filter((e) => e.jobId === id);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.error, "thrice (attempt 3)");
    assert.equal(failed[0]!.attempt, 3);
  });

  it("completes a job that succeeds on a retry, with the attempt count", async () => {
    const id = await enqueue(queue, failTimes, 2);
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "completed");
    assert.equal(r.result, 3);
    assert.equal(r.attempts, 3);
    assert.equal(r.error, undefined);
  });

  it("uses the task's maxRetries unless the enqueue overrides it", async () => {
    const byTask = await enqueue(queue, failFixed);
    const overridden = randomUUID();
    await queue.enqueue(overridden, failFixed, [], { maxRetries: 0 });
    const [a, b] = await Promise.all([
      queue.waitFor(byTask, { timeoutMs: 20_000 }),
      queue.waitFor(overridden, { timeoutMs: 20_000 }),
    ]);
    assert.equal(a.attempts, 3);
    assert.equal(a.error, "fixed 3");
    assert.equal(b.attempts, 1);
    assert.equal(b.error, "fixed 1");
  });

  it("defaults to 3 retries", async () => {
    const id = await enqueue(queue, echo, 1);
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.maxRetries, 3);
  });

  it("stores what the job threw: its message as the error, its code, and its name in the stack", async () => {
    // [kind, error, errorCode, first line of the stack (undefined: no stack)]
    const cases: [string, string, string | undefined, string | undefined][] = [
      ["type", "not a number", undefined, "TypeError: not a number"],
      ["coded", "disk full", "ENOSPC", "Error: disk full"],
      ["string", "just a string", undefined, undefined],
      ["object", "plain object", "E_PLAIN", undefined],
      ["plain", '{"reason":"quota","retryInS":5}', undefined, undefined],
      ["undefined", "the job threw undefined, not an Error", undefined, undefined],
    ];
    for (const [kind, error, code, head] of cases) {
      const r = await queue.waitFor(await enqueue(queue, throwKind, kind), { timeoutMs: 20_000 });
      assert.equal(r.status, "failed", kind);
      assert.equal(r.error, error, kind);
      assert.equal(r.errorCode, code, kind);
      const stored = await queue.getResult(r.jobId);
      assert.equal(stored?.stack?.split("\n")[0], head, kind);
      if (head !== undefined) assert.match(stored!.stack!, /\n\s+at .*\bthrowKind\b/, kind);
    }
  });

  it("keeps a job pending, with the last error, while it waits out its backoff", async () => {
    const id = randomUUID();
    const t = timeline(queue, id);
    await queue.enqueue(id, failFixed, []);
    while (t.retries.length === 0) await new Promise((r) => setTimeout(r, 5));
    const mid = await queue.getResult(id);
    assert.equal(mid?.status, "pending");
    assert.equal(mid?.error, "fixed 1");
    assert.equal(mid?.attempts, 1);
    await queue.waitFor(id, { timeoutMs: 20_000 });
  });

  it("waits the fixed delay before each retry", async () => {
    const id = randomUUID();
    const t = timeline(queue, id);
    await queue.enqueue(id, failFixed, []);
    await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.deepEqual(
      t.retries.map((r) => r.delayMs),
      [60, 60],
    );
    assert.equal(t.starts.length, 3);
    for (let i = 0; i < 2; i++) {
      const waited = t.starts[i + 1]! - t.retries[i]!.at;
      // Never early; late by at most a generous margin on a busy machine.
      assert.ok(waited >= 55 && waited < 3_000, `retry ${i + 1} waited ${waited} ms`);
    }
  });

  it("doubles an exponential delay up to maxDelayMs", async () => {
    const id = randomUUID();
    const t = timeline(queue, id);
    await queue.enqueue(id, failExponential, []);
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.attempts, 4);
    assert.deepEqual(
      t.retries.map((x) => x.delayMs),
      [40, 80, 100],
    );
    for (let i = 0; i < 3; i++) {
      const waited = t.starts[i + 1]! - t.retries[i]!.at;
      assert.ok(
        waited >= t.retries[i]!.delayMs - 5 && waited < 3_000,
        `retry ${i + 1} waited ${waited} ms`,
      );
    }
  });

  it("spreads a jittered delay below the configured one", async () => {
    // 8 jobs of 3 retries each: 24 delays drawn with jitter 0.5 from 50–100 ms.
    const ids = Array.from({ length: 8 }, () => randomUUID());
    const lines = ids.map((id) => timeline(queue, id));
    await queue.enqueueMany(ids.map((jobId) => ({ jobId, task: failJitter, args: [] })));
    await Promise.all(ids.map((id) => queue.waitFor(id, { timeoutMs: 20_000 })));
    const delays: number[] = [];
    for (const t of lines) {
      assert.equal(t.retries.length, 3);
      for (const [i, r] of t.retries.entries()) {
        assert.ok(r.delayMs >= 50 && r.delayMs <= 100, `delay ${r.delayMs}`);
        const waited = t.starts[i + 1]! - r.at;
        assert.ok(waited >= r.delayMs - 5 && waited < 3_000, `retry ${i + 1} waited ${waited} ms`);
        delays.push(r.delayMs);
      }
    }
    // Without jitter every delay would be 100 ms. Drawn at random, they
    // spread over the range (each bound below fails about once in 10^7 runs).
    assert.ok(new Set(delays).size >= 5, `delays ${delays.join(", ")} barely differ`);
    assert.ok(
      delays.some((d) => d < 75) && delays.some((d) => d >= 75),
      `delays ${delays.join(", ")}`,
    );
  });
});
