/**
 * The store conformance cases of cancel, hand-back and the operating calls
 * (retry, promote, pause, remove, clean, logs), registered inside the suite
 * of store-conformance.ts, on the same stores.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import type { ClaimedJob } from "../../src/engine/store.js";
import { until } from "../support/until.js";
import { ALL, changeOf, claimOne, newJob, type StoreUnderTest } from "./store-harness.js";

const error = { name: "Error", message: "no luck" };

export function storeOperations(fresh: () => Promise<StoreUnderTest>): void {
  const id = () => randomUUID();

  it("cancels a pending job (cancelled), marks a running one (running), and finds nothing to cancel otherwise (none)", async () => {
    const s = await fresh();
    const running = await claimOne(s);
    const pending = id();
    await s.store.insert([newJob(s.store, pending, { delayMs: 60_000 })]);
    assert.equal(await s.store.cancel(pending), "cancelled");
    const r = await s.store.get(pending);
    assert.equal(r?.status, "cancelled");
    assert.equal(r?.attempts, 0);
    const change = await changeOf(s, pending, "cancelled");
    assert.deepEqual([change.from, change.to, change.attempts], ["pending", "cancelled", 0]);
    assert.equal(await s.store.cancel(running.id), "running");
    assert.equal((await s.store.get(running.id))?.status, "running", "its runner writes the end");
    assert.equal(await s.store.cancel(`unknown-${id()}`), "none");
    assert.equal(await s.store.cancel(pending), "none", "already cancelled");
    await s.store.settle([{ job: running, kind: "completed", result: s.result(1), durationMs: 1 }]);
    assert.equal(await s.store.cancel(running.id), "none", "finished");
  });

  it("hands claimed jobs back: pending again, the attempt not counted", async () => {
    const s = await fresh();
    const c = await claimOne(s);
    await s.store.handBack([c]);
    const r = await s.store.get(c.id);
    assert.equal(r?.status, "pending");
    assert.equal(r?.attempts, 0);
    const [again] = await s.store.claim(1);
    assert.equal(again?.id, c.id);
    assert.equal(again?.attempt, 1);
  });

  it("retries a failed job by hand, and refuses a job that did not fail or was not cancelled", async () => {
    const s = await fresh();
    const c = await claimOne(s);
    assert.equal(await s.store.retry(c.id), false, "running");
    await s.store.settle([{ job: c, kind: "failed", error, durationMs: 1 }]);
    assert.equal(await s.store.retry(c.id), true);
    assert.equal((await s.store.get(c.id))?.status, "pending");
    const retried = await changeOf(s, c.id, "retried");
    assert.deepEqual([retried.from, retried.to], ["failed", "pending"]);
    const [again] = await s.store.claim(1);
    assert.equal(again?.id, c.id);
    assert.equal(again?.attempt, 2);
    await s.store.settle([{ job: again!, kind: "completed", result: s.result(2), durationMs: 1 }]);
    assert.equal(await s.store.retry(c.id), false, "completed");
    assert.equal(await s.store.retry(`unknown-${id()}`), false);
  });

  it("promotes a delayed job, which is then claimed at once; a job that is not delayed is not promoted", async () => {
    const s = await fresh();
    const delayed = id();
    const ready = id();
    await s.store.insert([newJob(s.store, delayed, { delayMs: 60_000 })]);
    await s.store.insert([newJob(s.store, ready)]);
    assert.equal(await s.store.promote(ready), false);
    assert.deepEqual(
      (await s.store.claim(5)).map((c) => c.id),
      [ready],
    );
    assert.equal(await s.store.promote(delayed), true);
    assert.deepEqual(
      (await s.store.claim(5)).map((c) => c.id),
      [delayed],
    );
    assert.equal(await s.store.promote(delayed), false, "running");
  });

  it("claims nothing while paused, and the same job once resumed", async () => {
    const s = await fresh();
    const jobId = id();
    await s.store.insert([newJob(s.store, jobId)]);
    await s.store.setPaused(true);
    assert.equal(await s.store.isPaused(), true);
    assert.deepEqual(await s.store.claim(5), []);
    assert.equal((await s.store.get(jobId))?.status, "pending");
    await s.store.setPaused(false);
    assert.equal(await s.store.isPaused(), false);
    assert.deepEqual(
      (await s.store.claim(5)).map((c) => c.id),
      [jobId],
    );
  });

  it("removes a job that is not running, and refuses a running one", async () => {
    const s = await fresh();
    const running = await claimOne(s);
    const pending = id();
    await s.store.insert([newJob(s.store, pending, { delayMs: 60_000 })]);
    assert.equal(await s.store.remove(running.id), false);
    assert.equal((await s.store.get(running.id))?.status, "running");
    assert.equal(await s.store.remove(pending), true);
    assert.equal(await s.store.get(pending), undefined);
    assert.deepEqual(await s.store.claim(5), [], "a removed job is never claimed");
    assert.equal(await s.store.remove(pending), false, "already gone");
    assert.deepEqual(
      (await s.store.list(ALL)).map((j) => j.jobId),
      [running.id],
    );
  });

  it("cleans finished jobs of one status, at most the limit, and leaves the others", async () => {
    const s = await fresh();
    const done: ClaimedJob[] = [];
    for (let i = 0; i < 3; i++) done.push(await claimOne(s));
    const failed = await claimOne(s);
    await s.store.settle([
      ...done.map((job) => ({
        job,
        kind: "completed" as const,
        result: s.result(0),
        durationMs: 1,
      })),
      { job: failed, kind: "failed", error, durationMs: 1 },
    ]);
    assert.equal(await s.store.clean({ status: "completed", olderThanMs: 0, limit: 2 }), 2);
    assert.equal(
      await s.store.clean({ status: "completed", olderThanMs: 60_000, limit: 10 }),
      0,
      "none that old",
    );
    assert.equal(await s.store.clean({ status: "completed", olderThanMs: 0, limit: 10 }), 1);
    assert.deepEqual(
      (await s.store.list(ALL)).map((j) => j.jobId),
      [failed.id],
    );
    assert.equal((await s.store.counts()).failed, 1);
  });

  it("appends log lines of a running claim and reads them back; a stale claim writes none", async () => {
    const s = await fresh();
    const c = await claimOne(s, 1);
    assert.deepEqual(await s.store.getLogs(c.id), []);
    s.store.appendLogs([{ job: c, lines: ["one", "two"] }]);
    // Redis writes logs in the background (advisory, like progress).
    assert.deepEqual(
      await until("the lines", async () => {
        const lines = await s.store.getLogs(c.id);
        return lines?.length === 2 && lines;
      }),
      ["one", "two"],
    );
    const current = await s.takeOver(c);
    s.store.appendLogs([{ job: c, lines: ["stale"] }]);
    s.store.appendLogs([{ job: current, lines: ["three"] }]);
    const lines = await until("the current claim's line", async () => {
      const l = await s.store.getLogs(c.id);
      return l?.includes("three") && l;
    });
    assert.deepEqual(lines, ["one", "two", "three"]);
    assert.equal(await s.store.getLogs(`unknown-${id()}`), undefined);
  });
}
