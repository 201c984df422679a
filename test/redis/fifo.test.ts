/**
 * Fresh jobs of priority 0 wait in a list (ids only), everything else that
 * is ready in the sorted set; a pending job cancelled or deleted from the
 * list leaves a stale entry that the claim script skips (no O(n) removal).
 * The list is those jobs' pending index too: listing and counting read it.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { RedisOperations } from "../../src/redis/operations.js";
import { ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

describeWithRedis("the fifo list of ready jobs", () => {
  const redis = redisFixture();
  const closers: (() => void)[] = [];
  after(() => {
    for (const c of closers) c();
  });
  const open = () => {
    const w = new ScriptedWorker(redis.server.url, `fifo:${randomUUID()}:`, "w1");
    closers.push(() => w.close());
    return { w, k: w.keys, ops: new RedisOperations(w.scripts, w.client, w.keys) };
  };
  const claimIds = async (w: ScriptedWorker, n: number) =>
    (await w.claim(n, 60_000)).map((j) => j.id);

  it("holds fresh priority-0 jobs, claimed in order after higher priorities and before lower", async () => {
    const { w, k } = open();
    await w.enqueue([
      { id: "a" },
      { id: "low", priority: -1 },
      { id: "b" },
      { id: "high", priority: 5 },
      { id: "c" },
    ]);
    assert.deepEqual(await w.client.lrange(k.fifo, 0, -1), ["a", "b", "c"]);
    assert.equal(await w.client.zcard(k.ready), 2, "only the prioritized jobs in the sorted set");
    assert.deepEqual(await claimIds(w, 2), ["high", "a"]);
    assert.deepEqual(await claimIds(w, 10), ["b", "c", "low"]);
    assert.equal(await w.client.exists(k.fifo), 0);
  });

  it("skips the stale entry of a cancelled job, also once it is retried and pending again", async () => {
    const { w, k, ops } = open();
    await w.enqueue([{ id: "a" }, { id: "x" }, { id: "b" }]);
    assert.equal(await w.cancel("x"), 1);
    assert.equal(await w.client.hget(k.fifoStale, "x"), "1");
    assert.equal(await w.client.llen(k.fifo), 3, "no O(n) removal from the list");
    assert.deepEqual(await claimIds(w, 1), ["a"]);
    assert.equal(await ops.retry("x"), true);
    // Retried, x waits in the sorted set and goes first; its stale entry is skipped.
    assert.deepEqual(await claimIds(w, 10), ["x", "b"]);
    assert.equal(await w.client.exists(k.fifoStale), 0, "the stale count is forgotten once used");
    assert.deepEqual(await claimIds(w, 10), [], "x was claimed once");
  });

  it("a deleted pending job's entry does not claim a new job of the same id before its delay", async () => {
    const { w, k, ops } = open();
    await w.enqueue([{ id: "a" }]);
    assert.equal(await ops.remove("a"), true);
    await w.enqueue([{ id: "a", delayMs: 60_000 }]);
    assert.equal(await w.client.llen(k.fifo), 1, "the stale entry is still there");
    assert.deepEqual(await claimIds(w, 10), [], "the delayed job is not claimed early");
    assert.equal(await w.status("a"), "pending");
    assert.equal(await w.client.llen(k.fifo), 0);
  });

  it("is the pending index of its jobs: listed by creation and counted, stale entries neither", async () => {
    const { w, k, ops } = open();
    const pending = async () => {
      const reply = (await w.scripts.run("list", k.statuses, ["pending", 0, -1, ""])) as unknown[];
      return reply.filter((_, i) => i % 2 === 0);
    };
    const counts = async () => (await w.scripts.run("counts", k.statuses, [])) as number[];
    await w.enqueue([
      { id: "a" },
      { id: "b", priority: 2 },
      { id: "c" },
      { id: "d", delayMs: 60_000 },
      { id: "e" },
      { id: "x" },
    ]);
    assert.equal(await w.client.zcard(k.pending), 2, "only b and d have an s:pending entry");
    assert.equal(await w.cancel("c"), 1);
    assert.equal(await ops.retry("c"), true);
    assert.equal(await ops.remove("e"), true);
    await w.enqueue([{ id: "e" }]);
    // c waits in the sorted set now and e has a newer entry: both have a stale one.
    assert.equal(await w.client.llen(k.fifo), 5);
    assert.deepEqual(await pending(), ["e", "x", "d", "c", "b", "a"]);
    assert.deepEqual(await counts(), [6, 0, 0, 0, 0]);
    assert.deepEqual(await claimIds(w, 2), ["b", "c"]);
    assert.deepEqual(await pending(), ["e", "x", "d", "a"]);
    assert.deepEqual(await counts(), [4, 2, 0, 0, 0]);
    assert.deepEqual(await claimIds(w, 10), ["a", "x", "e"]);
    assert.deepEqual(await pending(), ["d"]);
    assert.deepEqual(await counts(), [1, 5, 0, 0, 0]);
    assert.equal(await w.client.exists(k.fifo, k.fifoStale), 0, "no entry and no stale count left");
  });

  it("does not mark a cancelled job stale when it waited elsewhere", async () => {
    const { w, k } = open();
    await w.enqueue([
      { id: "d", delayMs: 60_000 },
      { id: "p", priority: 2 },
    ]);
    assert.equal(await w.cancel("d"), 1);
    assert.equal(await w.cancel("p"), 1);
    assert.equal(await w.client.exists(k.fifoStale), 0);
    await w.enqueue([{ id: "n" }]);
    assert.deepEqual(await claimIds(w, 10), ["n"]);
  });
});
