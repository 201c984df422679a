/**
 * The operating scripts of the Redis backend (retry, promote, pause and
 * resume, remove, clean, logs) and enqueue's dedupe and per-job timeout,
 * run directly against a private redis-server, each with its refusals.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode } from "rapidai/background";
import { type EventRecord, parseEventMessage } from "../../src/redis/event-codec.js";
import { RedisOperations } from "../../src/redis/operations.js";
import { type ClaimedJob, ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

describeWithRedis("Redis operating scripts", () => {
  const redis = redisFixture();
  const closers: (() => void)[] = [];
  after(() => {
    for (const c of closers) c();
  });

  const open = () => {
    const w = new ScriptedWorker(redis.server.url, `ops:${randomUUID()}:`, "w1");
    closers.push(() => w.close());
    return { w, k: w.keys, ops: new RedisOperations(w.scripts, w.client, w.keys) };
  };
  const claimOne = async (w: ScriptedWorker): Promise<ClaimedJob> => {
    const [job] = await w.claim(1, 60_000);
    assert.ok(job, "a job was claimed");
    return job;
  };
  /** Records of the kinds asked for, as the scripts publish them. */
  const listen = async (w: ScriptedWorker, kinds: string[]) => {
    const sub = new Redis(redis.server.url);
    closers.push(() => sub.disconnect());
    const records: EventRecord[] = [];
    const waiters: (() => void)[] = [];
    sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
      records.push(...parseEventMessage(message));
      for (const wake of waiters.splice(0)) wake();
    });
    await sub.subscribe(w.keys.events);
    for (const kind of kinds) await w.client.set(w.keys.listen(kind), "1");
    const next = async (kind: string): Promise<EventRecord> => {
      for (;;) {
        const r = records.find((e) => e.kind === kind);
        if (r) return r;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    return { records, next };
  };
  const where = async (w: ScriptedWorker, id: string) => {
    const k = w.keys;
    const scores = await Promise.all(
      [k.ready, k.delayed, k.pending, k.failed, k.cancelled, k.completed, k.done].map(async (key) =>
        (await w.client.zrange(key, 0, -1)).some((m) => m.endsWith(id)),
      ),
    );
    const names = ["ready", "delayed", "s:pending", "s:failed", "s:cancelled", "s:completed"];
    return [...names, "done"].filter((_, i) => scores[i]);
  };

  it("retry: a failed job goes back to pending and ready, out of retention, with a fresh budget", async () => {
    const { w, ops, k } = open();
    const events = await listen(w, ["T"]);
    await w.enqueue([{ id: "a", maxRetries: 1 }]);
    await w.fail([await claimOne(w)], "r");
    const second = await claimOne(w);
    assert.deepEqual([second.attempt, second.maxRetries], [2, 1]);
    await w.fail([second], "r");
    assert.equal(await w.status("a"), "failed", "no retry was left");

    assert.equal(await ops.retry("a"), true);
    assert.equal(await w.status("a"), "pending");
    assert.deepEqual(await where(w, "a"), ["ready", "s:pending"]);
    assert.equal(await w.client.hget(k.job("a"), "f"), null, "no finish time while pending");
    const t = await events.next("T");
    assert.deepEqual(
      [t.id, t.task, t.from, t.to, t.attempts],
      ["a", "scripted", "failed", "pending", 2],
    );

    // Attempts keep counting; the budget is maxRetries again, counted from the retry.
    const third = await claimOne(w);
    assert.deepEqual([third.attempt, third.maxRetries], [3, 3]);
    await w.fail([third], "r");
    assert.equal(await w.status("a"), "pending", "one retry of the fresh budget");
    const fourth = await claimOne(w);
    assert.equal(fourth.attempt, 4);
    await w.fail([fourth], "r");
    assert.equal(await w.status("a"), "failed", "the fresh budget is spent");
    assert.equal(await w.client.hget(k.job("a"), "n"), "4");
  });

  it("retry: a lease expiry after a retry counts from the retry too", async () => {
    const { w, ops } = open();
    await w.enqueue([{ id: "b", maxRetries: 1 }]);
    await w.fail([await claimOne(w)], "r");
    await w.fail([await claimOne(w)], "f");
    assert.equal(await ops.retry("b"), true);
    const [third] = await w.claim(1, 100);
    assert.equal(third?.attempt, 3);
    await w.until((await w.now()) + 110);
    assert.equal(await w.expire(), 1);
    assert.equal(await w.status("b"), "pending", "attempt 3 of a budget that restarted at 2");
  });

  it("retry: a cancelled job runs again and is not cancelled by its old request", async () => {
    const { w, ops } = open();
    await w.enqueue([{ id: "c" }]);
    const job = await claimOne(w);
    assert.equal(await w.cancel("c"), 2);
    await w.fail([job], "c");
    assert.equal(await w.status("c"), "cancelled");
    assert.equal(await ops.retry("c"), true);
    const again = await claimOne(w);
    assert.deepEqual(await w.complete([again]), [1]);
    assert.equal(await w.status("c"), "completed");
  });

  it("retry: false for a running, pending, completed or unknown job, which stays as it was", async () => {
    const { w, ops } = open();
    await w.enqueue([{ id: "run" }, { id: "done" }, { id: "wait", delayMs: 60_000 }]);
    const run = await claimOne(w);
    const done = await claimOne(w);
    await w.complete([done]);
    assert.equal(await ops.retry("run"), false);
    assert.equal(await ops.retry("wait"), false);
    assert.equal(await ops.retry("done"), false);
    assert.equal(await ops.retry("nobody"), false);
    assert.deepEqual(
      [await w.status("run"), await w.status("wait"), await w.status("done")],
      ["running", "pending", "completed"],
    );
    assert.deepEqual(await where(w, "wait"), ["delayed", "s:pending"]);
    assert.deepEqual(await w.complete([run]), [1], "the running attempt still holds its lease");
    await assert.rejects(ops.retry(""), { code: ErrorCode.INVALID_JOB_ID });
  });

  it("promote: a delayed job becomes ready now; false for ready, running and unknown jobs", async () => {
    const { w, ops } = open();
    await w.enqueue([{ id: "later", delayMs: 60_000 }, { id: "now" }]);
    assert.equal(await ops.promote("now"), false, "already ready");
    const running = await claimOne(w);
    assert.equal(running.id, "now");
    assert.equal(await ops.promote("now"), false, "running");
    assert.equal(await ops.promote("nobody"), false);
    assert.deepEqual(await w.claim(1, 60_000), [], "the delayed job is not due");
    assert.equal(await ops.promote("later"), true);
    assert.deepEqual(await where(w, "later"), ["ready", "s:pending"]);
    assert.equal((await claimOne(w)).id, "later");
    assert.equal(await ops.promote("later"), false);
  });

  it("pause: claims nothing (but still tells when the next job is due); resume wakes the workers", async () => {
    const { w, ops, k } = open();
    const events = await listen(w, ["Z", "U"]);
    await w.enqueue([{ id: "p1" }, { id: "p2", delayMs: 60_000 }]);
    assert.equal(await ops.isPaused(), false);
    await ops.pause();
    await ops.pause();
    assert.equal(await ops.isPaused(), true);
    const paused = await w.claimWithDue(10, 60_000);
    assert.deepEqual(paused.jobs, []);
    assert.ok(paused.due !== undefined && paused.due > (await w.now()), "a due time ahead");
    assert.equal(await w.status("p1"), "pending");
    await events.next("Z");

    const control = new Redis(redis.server.url);
    closers.push(() => control.disconnect());
    const woken = new Promise<string>((resolve) => control.on("message", (_c, m) => resolve(m)));
    await control.subscribe(k.control);
    await ops.resume();
    assert.equal(await woken, "w");
    assert.equal(await ops.isPaused(), false);
    const u = await events.next("U");
    assert.deepEqual([u.id, u.task, u.from, u.to], ["", "", "", ""]);
    assert.deepEqual(
      events.records.map((r) => r.kind),
      ["Z", "U"],
      "one record per change of state",
    );
    assert.equal((await claimOne(w)).id, "p1");
  });

  it("remove: deletes a job that is not running, everywhere; false for running and unknown jobs", async () => {
    const { w, ops, k } = open();
    await w.enqueue([{ id: "r1" }, { id: "r2", delayMs: 60_000 }, { id: "r3" }, { id: "r4" }]);
    const r1 = await claimOne(w);
    await ops.appendLogs([{ jobId: "r1", token: r1.token, lines: ["line"] }], 10);
    assert.deepEqual(await ops.getLogs("r1"), ["line"]);
    await w.complete([r1]);
    const r3 = await claimOne(w);
    assert.equal(await ops.remove("r3"), false, "running");
    assert.equal(await w.status("r3"), "running");
    assert.equal(await ops.remove("nobody"), false);
    for (const id of ["r1", "r2", "r4"]) {
      assert.equal(await ops.remove(id), true, id);
      assert.equal(await w.client.exists(k.job(id), k.logs(id)), 0, `${id}: hash and logs gone`);
      assert.deepEqual(await where(w, id), [], `${id}: in no index`);
      assert.equal(await ops.getLogs(id), undefined);
    }
    assert.equal(await ops.remove("r1"), false, "already gone");
    assert.deepEqual(await w.claim(10, 60_000), [], "nothing left to claim");
    assert.deepEqual(await w.complete([r3]), [1]);
  });

  it("clean: deletes finished jobs of one status, by age and up to a limit, across many calls", async () => {
    const { w, ops, k } = open();
    const n = 1200;
    const ids = Array.from({ length: 2 * n }, (_, i) => `j${i}`);
    for (let i = 0; i < ids.length; i += 500) {
      await w.enqueue(ids.slice(i, i + 500).map((id) => ({ id })));
    }
    // Completed and failed interleaved in the done set, so a call must skip the others.
    const jobs = await w.claim(1000, 60_000);
    jobs.push(...(await w.claim(1000, 60_000)), ...(await w.claim(1000, 60_000)));
    assert.equal(jobs.length, 2 * n);
    const even = jobs.filter((_, i) => i % 2 === 0);
    const odd = jobs.filter((_, i) => i % 2 === 1);
    await ops.appendLogs([{ jobId: even[0]!.id, token: even[0]!.token, lines: ["x"] }], 10);
    for (let i = 0; i < jobs.length; i += 200) {
      await w.complete(even.slice(i / 2, i / 2 + 100));
      await w.fail(odd.slice(i / 2, i / 2 + 100), "f");
    }
    assert.equal(
      await ops.clean({ status: "completed", olderThanMs: 3_600_000 }),
      0,
      "none so old",
    );
    assert.equal(await ops.clean({ status: "completed", limit: 0 }), 0);
    assert.equal(await ops.clean({ status: "completed", limit: 5 }), 5);
    assert.equal(await ops.clean({ status: "completed" }), n - 5);
    assert.equal(await w.client.zcard(k.completed), 0);
    assert.equal(await w.client.zcard(k.failed), n, "the failed jobs stay");
    assert.equal(await w.client.zcard(k.done), n);
    assert.equal(await w.client.exists(k.job(even[7]!.id)), 0);
    assert.equal(await w.client.exists(k.logs(even[0]!.id)), 0, "its log went with it");
    assert.equal(await ops.clean({ status: "cancelled" }), 0);
    assert.equal(await ops.clean({ status: "failed", limit: 1500 }), n);
    assert.equal(await w.client.zcard(k.done), 0);
    assert.equal(await w.client.zcard(k.failed), 0);
  });

  it("clean: refuses bad options with a code naming the option", async () => {
    const { ops } = open();
    const bad: [unknown, string][] = [
      [{ status: "pending" }, "status"],
      [{ status: "running" }, "status"],
      [{}, "status"],
      [{ status: "failed", olderThanMs: -1 }, "olderThanMs"],
      [{ status: "failed", limit: -1 }, "limit"],
      [{ status: "failed", limit: 1.5 }, "limit"],
      [{ status: "failed", age: 1 }, "age"],
      [undefined, "clean options"],
    ];
    for (const [options, name] of bad) {
      await assert.rejects(
        ops.clean(options as { status: "failed" }),
        (e: { code?: string; message?: string }) =>
          e.code === ErrorCode.INVALID_OPTION && (e.message ?? "").includes(name),
        JSON.stringify(options),
      );
    }
  });
});
