import assert from "node:assert/strict";
import { after, it } from "node:test";
import { ErrorCode, JobError } from "../../src/errors.js";
import { dependencyRefusal, packDependencies } from "../../src/redis/dependency-pack.js";
import { packEnqueues } from "../../src/redis/packed.js";
import { type ClaimedJob, ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

interface NewJob {
  id: string;
  dependsOn?: string[];
  delayMs?: number;
  maxRetries?: number;
}

describeWithRedis("Redis job dependencies", () => {
  const fx = redisFixture();
  const workers: ScriptedWorker[] = [];
  let n = 0;
  after(() => {
    for (const w of workers) w.close();
  });

  /** A queue under a fresh prefix, driven through its scripts as a worker would. */
  function queue() {
    const w = new ScriptedWorker(fx.server.url, `deps${++n}:`);
    workers.push(w);
    const k = w.keys;
    return {
      w,
      k,
      /** Runs the enqueue script; one reply element per job. */
      async enqueue(jobs: NewJob[]): Promise<unknown[]> {
        const rows = jobs.map((j) => ({
          id: j.id,
          task: "work",
          args: new Uint8Array(0),
          maxRetries: j.maxRetries ?? 0,
          priority: 0,
          delayMs: j.delayMs ?? 0,
        }));
        const deps = packDependencies(
          jobs.map((j) => ({ id: j.id, dependsOn: j.dependsOn ?? [] })),
        );
        return (await w.scripts.run(
          "enqueue",
          [k.ready, k.delayed, k.pending, k.seq],
          [packEnqueues(rows), ...(deps.length > 0 ? [deps] : [])],
        )) as unknown[];
      },
      /** Claims every ready job; resolves with them by id. */
      async claimAll(): Promise<Map<string, ClaimedJob>> {
        return new Map((await w.claim(100, 60_000)).map((j) => [j.id, j]));
      },
      async job(id: string) {
        const [s, attempts, error, code, dl] = await fx.raw.hmget(
          k.job(id),
          "s",
          "n",
          "e",
          "k",
          "dl",
        );
        // A job that never ran stores no attempt count: missing reads as 0.
        return { s, attempts: attempts ?? "0", error, code, dl };
      },
      /** Every key of this queue that dependencies use. */
      async depKeys(): Promise<string[]> {
        const all = await fx.raw.keys(`${k.prefix}dep*`);
        return all.sort();
      },
    };
  }

  it("fan-in: the reducer runs once all of its maps completed, and no key is left", async () => {
    const q = queue();
    const reply = await q.enqueue([
      { id: "m1" },
      { id: "m2" },
      { id: "m3" },
      { id: "reduce", dependsOn: ["m1", "m2", "m3"] },
    ]);
    assert.deepEqual(reply, [1, 1, 1, 1]);
    let claimed = await q.claimAll();
    assert.deepEqual([...claimed.keys()].sort(), ["m1", "m2", "m3"], "the reducer is not runnable");
    assert.equal((await q.job("reduce")).s, "pending");
    assert.equal((await q.job("reduce")).dl, "m1,m2,m3");
    await q.w.complete([claimed.get("m1")!, claimed.get("m3")!]);
    assert.equal((await fx.raw.zcard(q.k.ready)) + (await fx.raw.llen(q.k.fifo)), 0);
    assert.deepEqual(await fx.raw.smembers(q.k.deps("reduce")), ["m2"]);
    await q.w.complete([claimed.get("m2")!]);
    claimed = await q.claimAll();
    assert.deepEqual([...claimed.keys()], ["reduce"]);
    await q.w.complete([claimed.get("reduce")!]);
    assert.equal((await q.job("reduce")).s, "completed");
    assert.deepEqual(await q.depKeys(), []);
  });

  it("chain: each link becomes runnable when the one before completed", async () => {
    const q = queue();
    await q.enqueue([{ id: "a" }, { id: "b", dependsOn: ["a"] }, { id: "c", dependsOn: ["b"] }]);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const claimed = await q.claimAll();
      assert.equal(claimed.size, 1);
      const [job] = claimed.values();
      order.push(job!.id);
      await q.w.complete([job!]);
    }
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.deepEqual(await q.depKeys(), []);
  });

  it("a failed dependency fails its dependents down the chain with attempts 0, without running", async () => {
    const q = queue();
    await q.enqueue([
      { id: "a" },
      { id: "b", dependsOn: ["a"] },
      { id: "c", dependsOn: ["b"] },
      { id: "free" },
    ]);
    const claimed = await q.claimAll();
    await q.w.fail([claimed.get("a")!], "f");
    for (const [id, dep] of [
      ["b", "a"],
      ["c", "b"],
    ] as const) {
      const j = await q.job(id);
      assert.equal(j.s, "failed");
      assert.equal(j.attempts, "0");
      assert.equal(j.code, ErrorCode.DEPENDENCY_FAILED);
      assert.match(j.error ?? "", new RegExp(`dependency ${dep} ended failed`));
    }
    assert.deepEqual(await fx.raw.zrange(q.k.failed, 0, -1), ["a", "b", "c"]);
    assert.deepEqual(await fx.raw.zrange(q.k.pending, 0, -1), []);
    assert.deepEqual((await fx.raw.zrange(q.k.done, 0, -1)).sort(), ["a", "b", "c"]);
    assert.equal(
      (await fx.raw.zcard(q.k.ready)) + (await fx.raw.llen(q.k.fifo)),
      0,
      "nothing runnable is left",
    );
    assert.deepEqual(await q.depKeys(), []);
  });

  it("a dependency that is retried keeps its dependents waiting until it completes", async () => {
    const r = queue();
    await r.enqueue([
      { id: "a", maxRetries: 1 },
      { id: "b", dependsOn: ["a"] },
    ]);
    let claimed = await r.claimAll();
    await r.w.fail([claimed.get("a")!], "r");
    assert.equal((await r.job("a")).s, "pending");
    assert.equal((await r.job("b")).s, "pending");
    claimed = await r.claimAll();
    assert.deepEqual([...claimed.keys()], ["a"]);
    await r.w.complete([claimed.get("a")!]);
    assert.deepEqual([...(await r.claimAll()).keys()], ["b"]);
  });

  it("a dependency whose lease ran out with no retry left fails its dependents", async () => {
    const q = queue();
    await q.enqueue([{ id: "a" }, { id: "b", dependsOn: ["a"] }]);
    assert.equal((await q.w.claim(10, 1)).length, 1);
    // The 1 ms lease is over as soon as Redis's clock moves on.
    while ((await q.w.expire()) === 0);
    assert.equal((await q.job("a")).code, "ERR_LEASE_EXPIRED");
    assert.equal((await q.job("b")).s, "failed");
    assert.equal((await q.job("b")).code, ErrorCode.DEPENDENCY_FAILED);
  });

  it("a dependent retried by hand waits again for its dependency, once that was retried too", async () => {
    const q = queue();
    const retry = (id: string) => q.w.scripts.run("retry", [q.k.ready, q.k.done], [id]);
    await q.enqueue([{ id: "a" }, { id: "b", dependsOn: ["a"] }]);
    await q.w.fail([(await q.claimAll()).get("a")!], "f");
    assert.equal((await q.job("b")).s, "failed");
    // Its dependency is still failed: the retried dependent fails again at once.
    assert.equal(await retry("b"), 1);
    assert.equal((await q.job("b")).s, "failed");
    assert.equal((await q.job("b")).code, ErrorCode.DEPENDENCY_FAILED);
    assert.equal(await retry("a"), 1);
    assert.equal(await retry("b"), 1);
    assert.equal((await q.job("b")).s, "pending");
    const claimed = await q.claimAll();
    assert.deepEqual([...claimed.keys()], ["a"], "b waits for a");
    await q.w.complete([claimed.get("a")!]);
    assert.deepEqual([...(await q.claimAll()).keys()], ["b"]);
  });

  it("a cancelled dependency fails its dependents; a cancelled dependent stops waiting", async () => {
    const q = queue();
    await q.enqueue([
      { id: "a" },
      { id: "b", dependsOn: ["a"] },
      { id: "x" },
      { id: "y", dependsOn: ["x"] },
    ]);
    assert.equal(await q.w.cancel("a"), 1);
    assert.equal((await q.job("b")).s, "failed");
    assert.match((await q.job("b")).error ?? "", /dependency a ended cancelled/);
    assert.equal(await q.w.cancel("y"), 1);
    assert.deepEqual(await q.depKeys(), [q.k.dependents("x")]);
    const claimed = await q.claimAll();
    assert.deepEqual([...claimed.keys()], ["x"]);
    await q.w.complete([claimed.get("x")!]);
    assert.equal((await q.job("y")).s, "cancelled");
    assert.equal((await fx.raw.zcard(q.k.ready)) + (await fx.raw.llen(q.k.fifo)), 0);
    assert.deepEqual(await q.depKeys(), []);
  });

  it("refuses a job whose dependency does not exist and stores nothing of it", async () => {
    const q = queue();
    await q.enqueue([{ id: "a" }]);
    const before = await fx.raw.keys(`${q.k.prefix}*`);
    const reply = await q.enqueue([{ id: "b", dependsOn: ["a", "ghost"] }]);
    assert.deepEqual(reply, ["!ghost"]);
    const refusal = dependencyRefusal("b", reply[0]);
    assert.ok(refusal instanceof JobError);
    assert.equal(refusal.code, ErrorCode.DEPENDENCY_NOT_FOUND);
    assert.match(refusal.message, /job b depends on "ghost"/);
    assert.equal(dependencyRefusal("a", 1), undefined);
    assert.equal(dependencyRefusal("a", "holder-id"), undefined, "a dedupe holder is no refusal");
    assert.deepEqual((await fx.raw.keys(`${q.k.prefix}*`)).sort(), before.sort());
    assert.deepEqual(await fx.raw.zrange(q.k.pending, 0, -1), [], "b is in no index");
    assert.deepEqual(await fx.raw.lrange(q.k.fifo, 0, -1), ["a"]);
    // In one batch, a dependency must come before its dependent.
    assert.deepEqual(await q.enqueue([{ id: "d", dependsOn: ["c"] }, { id: "c" }]), ["!c", 1]);
  });

  it("a job whose dependency already ended is runnable at once, or failed at once", async () => {
    const q = queue();
    await q.enqueue([{ id: "ok" }, { id: "bad" }]);
    const claimed = await q.claimAll();
    await q.w.complete([claimed.get("ok")!]);
    await q.w.fail([claimed.get("bad")!], "f");
    await q.enqueue([
      { id: "after-ok", dependsOn: ["ok"] },
      { id: "after-bad", dependsOn: ["ok", "bad"] },
      { id: "after-after-bad", dependsOn: ["after-bad"] },
    ]);
    assert.deepEqual([...(await q.claimAll()).keys()], ["after-ok"]);
    for (const id of ["after-bad", "after-after-bad"]) {
      const j = await q.job(id);
      assert.equal(j.s, "failed", id);
      assert.equal(j.attempts, "0");
      assert.equal(j.code, ErrorCode.DEPENDENCY_FAILED);
    }
    assert.deepEqual(await fx.raw.zrange(q.k.pending, 0, -1), []);
    assert.deepEqual(await q.depKeys(), []);
  });

  it("a delayed dependent waits for its delay after its dependencies completed", async () => {
    const q = queue();
    await q.enqueue([{ id: "a" }, { id: "later", dependsOn: ["a"], delayMs: 60_000 }]);
    assert.equal(await fx.raw.zscore(q.k.delayed, "later"), null, "not delayed while it waits");
    const claimed = await q.claimAll();
    await q.w.complete([claimed.get("a")!]);
    const due = Number(await fx.raw.zscore(q.k.delayed, "later"));
    const created = Number(await fx.raw.hget(q.k.job("later"), "c"));
    assert.equal(due, created + 60_000);
    assert.equal((await fx.raw.zcard(q.k.ready)) + (await fx.raw.llen(q.k.fifo)), 0);
  });
});
