/**
 * Per-task flow control in the claim script: `concurrency` and `rateLimit`
 * hold across claimers that share a prefix, throttled jobs stay pending
 * (parked, never failed), and a worker waiting on a rate limit does not
 * poll Redis.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { ErrorCode, RedisQueue } from "rapidai/background";
import { RedisOperations } from "../../src/redis/operations.js";
import "../fixtures/redis-tasks.js";
import { type ClaimedJob, ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

describeWithRedis("Redis per-task limits", () => {
  const redis = redisFixture();
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of closers) await c();
  });
  /** Two claimers (think: two processes) on one queue. */
  const open = () => {
    const prefix = `lim:${randomUUID()}:`;
    const a = new ScriptedWorker(redis.server.url, prefix, "a");
    const b = new ScriptedWorker(redis.server.url, prefix, "b");
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    return { a, b, k: a.keys, prefix, ops: new RedisOperations(a.scripts, a.client, a.keys) };
  };
  const jobs = (n: number, task = "scripted") =>
    Array.from({ length: n }, (_, i) => ({ id: `j${String(i).padStart(5, "0")}`, task }));

  it("concurrency: at most n running across claimers; a completion or a lease expiry gives the slot back", async () => {
    const { a, b, k, ops } = open();
    await ops.setTaskLimits([{ task: "scripted", concurrency: 2 }]);
    await a.enqueue([...jobs(6), { id: "free", task: "other" }]);
    const first = await a.claim(5, 60_000);
    assert.deepEqual(first.map((j) => j.id).sort(), ["free", "j00000", "j00001"]);
    assert.deepEqual(await b.claim(5, 60_000), [], "no slot left for the other claimer");
    assert.equal(await a.client.zcard(k.waiting("scripted")), 4, "the rest are parked");
    assert.equal(
      (await a.client.zcard(k.ready)) + (await a.client.llen(k.fifo)),
      0,
      "not in the ready set to be claimed again",
    );
    assert.equal(await a.status("j00005"), "pending");

    await a.complete([first.find((j) => j.id === "j00000")!]);
    const second = await b.claim(5, 60_000);
    assert.deepEqual(
      second.map((j) => j.id),
      ["j00002"],
      "the slot went to the oldest parked job",
    );

    // A claimer that died: its lease runs out and the slot comes back.
    await a.client.zadd(k.leases, 1, "j00001");
    assert.equal(await a.expire(), 1);
    assert.equal(await a.status("j00001"), "failed");
    const third = await a.claim(5, 60_000);
    assert.deepEqual(
      third.map((j) => j.id),
      ["j00003"],
    );
    assert.equal(await a.client.scard(k.active("scripted")), 2);

    // Drain with both claimers: never more than two of the task at once.
    const running = new Map<string, ClaimedJob>([...second, ...third].map((j) => [j.id, j]));
    let rounds = 0;
    while (running.size > 0) {
      assert.ok(running.size <= 2, `${running.size} running`);
      const [oldest] = running.values();
      running.delete(oldest!.id);
      await (oldest!.token.startsWith("a:") ? a : b).complete([oldest!]);
      for (const c of [a, b]) for (const j of await c.claim(5, 60_000)) running.set(j.id, j);
      assert.ok(++rounds < 20);
    }
    for (const { id } of jobs(6)) assert.notEqual(await a.status(id), "pending", id);
    assert.equal(await a.client.scard(k.active("scripted")), 0);
  });

  it("rateLimit: at most max starts in any window of intervalMs across claimers, the rest wait pending", async () => {
    const { a, b, k, ops } = open();
    const max = 3;
    const intervalMs = 300;
    await ops.setTaskLimits([{ task: "scripted", rateLimit: { max, intervalMs } }]);
    await a.enqueue(jobs(10));
    const started: ClaimedJob[] = [];
    let calls = 0;
    while (started.length < 10) {
      let due: number | undefined;
      for (const c of [a, b]) {
        const r = await c.claimWithDue(10, 60_000);
        calls++;
        started.push(...r.jobs);
        await c.complete(r.jobs);
        due = r.due;
      }
      if (started.length < 10) {
        assert.ok(due !== undefined, "a due time while jobs wait");
        // The due time is when the window opens: its first start plus the interval.
        const starts = await a.client.zrange(k.rate("scripted"), 0, 0, "WITHSCORES");
        assert.equal(due, Number(starts[1]) + intervalMs);
        assert.equal(
          await a.client.zcard(k.pending),
          10 - started.length,
          "the others wait pending",
        );
        await a.until(due);
      }
    }
    // Every claimer call did something or slept until the window opened.
    assert.ok(calls <= 16, `${calls} claim calls for 10 jobs`);
    const at = await Promise.all(
      started.map(async (j) => Number(await a.client.hget(k.job(j.id), "b"))),
    );
    at.sort((x, y) => x - y);
    for (const t of at) {
      const inWindow = at.filter((u) => u >= t && u < t + intervalMs).length;
      assert.ok(inWindow <= max, `${inWindow} starts in [${t}, ${t + intervalMs})`);
    }
    assert.ok(at.at(-1)! - at[0]! >= 3 * intervalMs, "10 jobs at 3 per window take 4 windows");
    assert.equal(new Set(started.map((j) => j.id)).size, 10);
    for (const j of started) assert.equal(await a.status(j.id), "completed");
  });

  it("rateLimit and concurrency together; clearing the limits frees the parked jobs at the next claim", async () => {
    const { a, k, ops } = open();
    await ops.setTaskLimits([
      { task: "scripted", concurrency: 1, rateLimit: { max: 1, intervalMs: 60_000 } },
    ]);
    await a.enqueue(jobs(5));
    const [first] = await a.claim(5, 60_000);
    await a.complete([first!]);
    const held = await a.claimWithDue(5, 60_000);
    assert.deepEqual(held.jobs, [], "the slot is free but the window is not");
    assert.ok(held.due! >= (await a.now()) + 50_000, "parked until the window opens");
    // A parked job can be cancelled or removed like any pending job.
    assert.equal(await a.client.zcard(k.waiting("scripted")), 4);
    assert.equal(await a.cancel("j00002"), 1);
    assert.equal(await ops.remove("j00003"), true);
    assert.equal(await a.client.zcard(k.waiting("scripted")), 2);
    await ops.setTaskLimits([{ task: "scripted" }]);
    assert.equal(await a.client.hexists(k.limits, "scripted"), 0);
    assert.deepEqual(
      (await a.claim(10, 60_000)).map((j) => j.id),
      ["j00001", "j00004"],
    );
    assert.equal(await a.client.exists(k.waiting("scripted")), 0);
  });

  it("refuses bad limits with a code naming the option, and stores nothing", async () => {
    const { a, k, ops } = open();
    const bad: [unknown, string][] = [
      [{ task: "t", concurrency: 0 }, "concurrency"],
      [{ task: "t", concurrency: 1.5 }, "concurrency"],
      [{ task: "t", rateLimit: { max: 0, intervalMs: 10 } }, "rateLimit.max"],
      [{ task: "t", rateLimit: { max: 1 } }, "rateLimit.intervalMs"],
      [{ task: "t", rateLimit: 5 }, "rateLimit"],
      [{ task: "" }, "task"],
      [{ task: "t", burst: 1 }, "burst"],
    ];
    for (const [limits, name] of bad) {
      await assert.rejects(
        ops.setTaskLimits([{ task: "ok", concurrency: 1 }, limits as { task: string }]),
        (e: { code?: string; message?: string }) =>
          e.code === ErrorCode.INVALID_OPTION && (e.message ?? "").includes(`\`${name}`),
        name,
      );
    }
    assert.equal(await a.client.exists(k.limits), 0);
  });

  it("does not poll Redis while 10,000 rate-limited jobs wait on one worker", async (t) => {
    const { a, k, prefix, ops } = open();
    const producer = new RedisQueue({ url: redis.server.url, prefix, process: false });
    const worker = new RedisQueue({ url: redis.server.url, prefix, threads: 1 });
    closers.push(
      () => producer.close(),
      () => worker.close({ timeoutMs: 1000 }),
    );
    await ops.setTaskLimits([{ task: "rq.pid", rateLimit: { max: 5, intervalMs: 500 } }]);
    const n = 10_000;
    await producer.enqueueMany(
      Array.from({ length: n }, (_, i) => ({ jobId: `p${i}`, task: "rq.pid", args: [] })),
    );
    let done = 0;
    const waiters: { at: number; resolve: () => void }[] = [];
    worker.on("completed", () => {
      done++;
      for (const w of waiters.filter((x) => x.at <= done)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    const completions = (count: number) =>
      new Promise<void>((resolve) => waiters.push({ at: count, resolve }));
    const calls = async () => {
      const info = await a.client.info("commandstats");
      let total = 0;
      for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm))
        if (m[1] !== "info") total += Number(m[2]);
      return total;
    };
    await worker.start();
    // The steady state is measured: once the jobs are parked (parking them
    // is a burst of work, done once), however the first starts interleave with it.
    while ((await a.client.zcard(`${prefix}wait:rq.pid`)) < n - 100)
      await new Promise((r) => setTimeout(r, 5));
    await completions(10);
    const rates: number[] = [];
    for (let window = 0; window < 3; window++) {
      // Two rate windows (10 starts) per measurement.
      const c0 = await calls();
      const t0 = performance.now();
      await completions(done + 10);
      rates.push(((await calls()) - c0) / ((performance.now() - t0) / 1000));
    }
    t.diagnostic(
      `Redis commands/s while ${n - done} jobs wait: ${rates.map(Math.round).join(", ")}`,
    );
    assert.ok(await a.client.zcard(k.pending), "jobs still wait");
    // Measured at about 300/s (20 script calls/s, each command inside a
    // script counted): the cost of 10 starts and completions a second, not
    // of the jobs waiting. Polling them would be thousands.
    for (const r of rates) assert.ok(r < 1000, `${Math.round(r)} commands/s`);
    const failed = await a.client.zcard(k.failed);
    assert.equal(failed, 0, "none failed for the limit");
  });
});
