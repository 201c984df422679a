/**
 * The store conformance suite: the storage contract (src/engine/store.ts)
 * tested directly, below the queue, with the test playing the runner. Run
 * against each store by test/store-conformance.test.ts; the operating calls
 * are in store-operations.ts.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { afterEach, describe, it } from "node:test";
import type { Change } from "../../src/engine/changes.js";
import type { Ending } from "../../src/engine/store.js";
import {
  ALL,
  changeOf,
  claimOne,
  claimWhenDue,
  newJob,
  type StoreFactory,
  type StoreUnderTest,
} from "./store-harness.js";
import { storeOperations } from "./store-operations.js";

const EMPTY = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };

/** The fields of a change the contract fixes (not its time). */
function facts(c: Change) {
  const { at: _at, task: _task, ...rest } = c;
  return rest;
}

export function storeConformance(backend: string, factory: StoreFactory): void {
  describe(`store conformance: ${backend}`, () => {
    let open: StoreUnderTest[] = [];
    const fresh = async () => {
      const s = await factory();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.map((s) => s.close()));
      open = [];
    });
    const id = () => randomUUID();

    it("stores a new job: get, list and counts show it pending, and an enqueued change is reported", async () => {
      const s = await fresh();
      const [a, b] = [`a-${id()}`, `b-${id()}`];
      assert.deepEqual(
        await s.store.insert([newJob(s.store, a, { args: [1, "x"], maxRetries: 2 })]),
        [a],
      );
      await s.store.insert([newJob(s.store, b, { delayMs: 60_000 })]);
      const r = await s.store.get(a);
      assert.equal(r?.status, "pending");
      assert.equal(r?.task, "store.job");
      assert.deepEqual(r?.args, [1, "x"]);
      assert.equal(r?.attempts, 0);
      assert.equal(r?.maxRetries, 2);
      assert.equal(await s.store.get(`nope-${id()}`), undefined);
      assert.deepEqual(
        (await s.store.list(ALL)).map((j) => j.jobId),
        [b, a],
        "newest first",
      );
      assert.deepEqual(
        (await s.store.list({ ...ALL, status: "pending", limit: 1, offset: 1 })).map(
          (j) => j.jobId,
        ),
        [a],
      );
      assert.deepEqual(await s.store.list({ ...ALL, status: "running" }), []);
      assert.deepEqual(await s.store.counts(), { ...EMPTY, pending: 2 });
      const enqueued = await changeOf(s, b, "enqueued");
      assert.deepEqual(facts(enqueued), {
        kind: "enqueued",
        jobId: b,
        from: null,
        to: "pending",
        attempts: 0,
        delayMs: 60_000,
      });
    });

    it("stores nothing for an id that exists: the first job stays as it was", async () => {
      const s = await fresh();
      const jobId = id();
      await s.store.insert([newJob(s.store, jobId, { args: [1] })]);
      assert.deepEqual(await s.store.insert([newJob(s.store, jobId, { args: [2], priority: 9 })]), [
        jobId,
      ]);
      assert.deepEqual((await s.store.get(jobId))?.args, [1]);
      assert.equal((await s.store.list(ALL)).length, 1);
      assert.deepEqual(await s.store.counts(), { ...EMPTY, pending: 1 });
      // A marker job inserted after: once its change arrived, a second enqueued change would have too.
      const marker = id();
      await s.store.insert([newJob(s.store, marker)]);
      await changeOf(s, marker, "enqueued");
      assert.equal(s.changes.filter((c) => c.jobId === jobId && c.kind === "enqueued").length, 1);
    });

    it("claims at most n jobs, higher priority first then in insertion order, each running its first attempt", async () => {
      const s = await fresh();
      const ids = [0, 5, 0, 5, 1].map((p) => ({ jobId: `${p}-${id()}`, p }));
      for (const { jobId, p } of ids)
        await s.store.insert([newJob(s.store, jobId, { priority: p })]);
      const first = await s.store.claim(2);
      assert.deepEqual(
        first.map((c) => c.id),
        [ids[1]!.jobId, ids[3]!.jobId],
      );
      assert.deepEqual(await s.store.counts(), { ...EMPTY, pending: 3, running: 2 });
      const rest = await s.store.claim(10);
      assert.deepEqual(
        rest.map((c) => c.id),
        [ids[4]!.jobId, ids[0]!.jobId, ids[2]!.jobId],
      );
      for (const c of [...first, ...rest]) {
        assert.equal(c.attempt, 1);
        assert.equal(c.task, "store.job");
        assert.equal((await s.store.get(c.id))?.status, "running");
        const started = await changeOf(s, c.id, "started");
        assert.deepEqual(facts(started), {
          kind: "started",
          jobId: c.id,
          from: "pending",
          to: "running",
          attempts: 1,
        });
      }
      assert.deepEqual(await s.store.claim(10), []);
      assert.deepEqual(await s.store.counts(), { ...EMPTY, running: 5 });
    });

    it("does not claim a delayed job before it is due", async () => {
      const s = await fresh();
      const jobId = id();
      const t0 = Date.now();
      await s.store.insert([newJob(s.store, jobId, { delayMs: 300 })]);
      assert.deepEqual(await s.store.claim(1), [], "not due yet");
      const [c] = await claimWhenDue(s.store);
      assert.equal(c?.id, jobId);
      assert.ok(Date.now() - t0 >= 295, `claimed after ${Date.now() - t0} ms`);
    });

    const error = { name: "TypeError", message: "bad input", code: "ERR_BAD" };

    it("settles completed: the result is kept and reported with the duration", async () => {
      const s = await fresh();
      const c = await claimOne(s);
      const value = { n: 1, list: [1, "two"] };
      const ending: Ending = { job: c, kind: "completed", result: s.result(value), durationMs: 12 };
      assert.deepEqual(await s.store.settle([ending]), [true]);
      const r = await s.store.get(c.id);
      assert.equal(r?.status, "completed");
      assert.equal(r?.attempts, 1);
      assert.deepEqual(r?.result, value);
      const done = await changeOf(s, c.id, "completed");
      assert.deepEqual(facts(done), {
        kind: "completed",
        jobId: c.id,
        from: "running",
        to: "completed",
        attempts: 1,
        result: value,
        durationMs: 12,
      });
      assert.deepEqual(await s.store.counts(), { ...EMPTY, completed: 1 });
    });

    it("settles failed: the error and its code are kept, the duration reported only when the job ran", async () => {
      const s = await fresh();
      const ran = await claimOne(s);
      const never = await claimOne(s);
      const reply = await s.store.settle([
        { job: ran, kind: "failed", error, durationMs: 7 },
        { job: never, kind: "failed", error, durationMs: undefined },
      ]);
      assert.deepEqual(reply, [true, true]);
      for (const c of [ran, never]) {
        const r = await s.store.get(c.id);
        assert.equal(r?.status, "failed");
        assert.equal(r?.attempts, 1);
        assert.match(r?.error ?? "", /^bad input$/);
        assert.equal(r?.errorCode, "ERR_BAD");
      }
      const failed = await changeOf(s, ran.id, "failed");
      assert.deepEqual(facts(failed), {
        kind: "failed",
        jobId: ran.id,
        from: "running",
        to: "failed",
        attempts: 1,
        error: "bad input",
        code: "ERR_BAD",
        durationMs: 7,
      });
      assert.equal((await changeOf(s, never.id, "failed")).durationMs, undefined);
    });

    it("settles retry: pending again with the attempt counted, claimable only after its delay, then attempt 2", async () => {
      const s = await fresh();
      const c = await claimOne(s, 1);
      const t0 = Date.now();
      assert.deepEqual(
        await s.store.settle([{ job: c, kind: "retry", error, delayMs: 300, durationMs: 3 }]),
        [true],
      );
      const r = await s.store.get(c.id);
      assert.equal(r?.status, "pending");
      assert.equal(r?.attempts, 1);
      const retrying = await changeOf(s, c.id, "retrying");
      assert.deepEqual(facts(retrying), {
        kind: "retrying",
        jobId: c.id,
        from: "running",
        to: "pending",
        attempts: 1,
        error: "bad input",
        code: "ERR_BAD",
        delayMs: 300,
      });
      assert.deepEqual(await s.store.claim(1), [], "not before its backoff");
      const [again] = await claimWhenDue(s.store);
      assert.ok(Date.now() - t0 >= 295, `claimed again after ${Date.now() - t0} ms`);
      assert.equal(again?.id, c.id);
      assert.equal(again?.attempt, 2);
    });

    it("settles cancelled and requeued: cancelled ends it; requeued gives it back without counting the attempt", async () => {
      const s = await fresh();
      const cancelled = await claimOne(s);
      const requeued = await claimOne(s);
      const reply = await s.store.settle([
        { job: cancelled, kind: "cancelled", durationMs: 2 },
        { job: requeued, kind: "requeued" },
      ]);
      assert.deepEqual(reply, [true, true]);
      const x = await s.store.get(cancelled.id);
      assert.equal(x?.status, "cancelled");
      assert.equal(x?.attempts, 1);
      assert.deepEqual(facts(await changeOf(s, cancelled.id, "cancelled")), {
        kind: "cancelled",
        jobId: cancelled.id,
        from: "running",
        to: "cancelled",
        attempts: 1,
      });
      const back = await s.store.get(requeued.id);
      assert.equal(back?.status, "pending");
      assert.equal(back?.attempts, 0);
      assert.deepEqual(facts(await changeOf(s, requeued.id, "requeued")), {
        kind: "requeued",
        jobId: requeued.id,
        from: "running",
        to: "pending",
        attempts: 0,
      });
      const [again] = await s.store.claim(1);
      assert.equal(again?.id, requeued.id);
      assert.equal(again?.attempt, 1, "the requeued attempt was not counted");
    });

    it("refuses the settle of a claim that was taken over, and takes the new claim's", async () => {
      const s = await fresh();
      const stale = await claimOne(s, 1);
      const current = await s.takeOver(stale);
      assert.equal(current.id, stale.id);
      assert.equal(current.attempt, 2);
      const late: Ending = {
        job: stale,
        kind: "completed",
        result: s.result("late"),
        durationMs: 1,
      };
      assert.deepEqual(await s.store.settle([late]), ["taken"]);
      assert.equal(
        (await s.store.get(stale.id))?.status,
        "running",
        "the late answer changed nothing",
      );
      const own: Ending = {
        job: current,
        kind: "completed",
        result: s.result("mine"),
        durationMs: 1,
      };
      assert.deepEqual(await s.store.settle([own]), [true]);
      const r = await s.store.get(stale.id);
      assert.equal(r?.result, "mine");
      assert.equal(r?.attempts, 2);
      assert.deepEqual(await s.store.settle([late]), ["taken"], "nor once the job ended");
      assert.equal((await s.store.get(stale.id))?.result, "mine");
    });

    storeOperations(fresh);
  });
}
