/**
 * Job logs (fenced, bounded, deleted with the job) and what enqueue stores
 * beyond the job itself: a dedupe key and a per-job timeout.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { ErrorCode } from "rapidai/background";
import { parseDedupe, parseJobTimeout } from "../../src/operation-options.js";
import { RedisOperations } from "../../src/redis/operations.js";
import { enqueuedIds } from "../../src/redis/packed.js";
import { type ClaimedJob, ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

describeWithRedis("Redis job logs, dedupe and per-job timeout", () => {
  const redis = redisFixture();
  const closers: (() => void)[] = [];
  after(() => {
    for (const c of closers) c();
  });
  const open = () => {
    const w = new ScriptedWorker(redis.server.url, `logs:${randomUUID()}:`, "w1");
    closers.push(() => w.close());
    return { w, k: w.keys, ops: new RedisOperations(w.scripts, w.client, w.keys) };
  };
  const claimOne = async (w: ScriptedWorker, leaseMs = 60_000): Promise<ClaimedJob> => {
    const [job] = await w.claim(1, leaseMs);
    assert.ok(job, "a job was claimed");
    return job;
  };
  const trim = (w: ScriptedWorker, maxCount: number) => {
    const k = w.keys;
    return w.scripts.run(
      "trim",
      [k.done, k.completed, k.failed, k.cancelled],
      [86_400_000, maxCount, 500],
    ) as Promise<number>;
  };

  it("appends the lines of the attempt holding the lease, many jobs in one call, oldest first", async () => {
    const { w, ops } = open();
    await w.enqueue([{ id: "a" }, { id: "b" }, { id: "idle" }]);
    const a = await claimOne(w);
    const b = await claimOne(w);
    await ops.appendLogs(
      [
        { jobId: "a", token: a.token, lines: ["a1", "a2"] },
        { jobId: "b", token: b.token, lines: ["b1"] },
        { jobId: "a", token: a.token, lines: ["a3"] },
        { jobId: "b", token: "w1:9", lines: ["forged"] },
        { jobId: "idle", token: "w1:1", lines: ["not running"] },
      ],
      100,
    );
    assert.deepEqual(await ops.getLogs("a"), ["a1", "a2", "a3"]);
    assert.deepEqual(await ops.getLogs("b"), ["b1"]);
    assert.deepEqual(await ops.getLogs("idle"), [], "a known job without lines");
    assert.equal(await ops.getLogs("nobody"), undefined);
  });

  it("keeps the lines an attempt sends right after its end, and drops those of an attempt that lost its lease", async () => {
    const { w, ops } = open();
    await w.enqueue([{ id: "ok" }, { id: "lost", maxRetries: 1 }]);
    const ok = await claimOne(w);
    await w.complete([ok]);
    await ops.appendLogs([{ jobId: "ok", token: ok.token, lines: ["last words"] }], 100);
    assert.deepEqual(await ops.getLogs("ok"), ["last words"]);

    const lost = await claimOne(w, 100);
    await w.until((await w.now()) + 110);
    assert.equal(await w.expire(), 1);
    await ops.appendLogs([{ jobId: "lost", token: lost.token, lines: ["zombie"] }], 100);
    const next = await claimOne(w);
    await ops.appendLogs([{ jobId: "lost", token: next.token, lines: ["second try"] }], 100);
    assert.deepEqual(await ops.getLogs("lost"), ["second try"]);
  });

  it("keeps only the last maxLines lines of a job", async () => {
    const { w, ops } = open();
    await w.enqueue([{ id: "chatty" }]);
    const job = await claimOne(w);
    const line = (i: number) => `line ${i}`;
    await ops.appendLogs([{ jobId: "chatty", token: job.token, lines: [0, 1].map(line) }], 3);
    await ops.appendLogs([{ jobId: "chatty", token: job.token, lines: [2, 3, 4].map(line) }], 3);
    assert.deepEqual(await ops.getLogs("chatty"), [2, 3, 4].map(line));
    const many = Array.from({ length: 12_000 }, (_, i) => line(i));
    await ops.appendLogs([{ jobId: "chatty", token: job.token, lines: many }], 5000);
    const kept = await ops.getLogs("chatty");
    assert.equal(kept?.length, 5000);
    assert.equal(kept?.[0], line(7000));
    assert.equal(kept?.at(-1), line(11_999));
    await assert.rejects(ops.appendLogs([], 0), { code: ErrorCode.INVALID_OPTION });
  });

  it("deletes a job's log with the job when retention trims it", async () => {
    const { w, ops, k } = open();
    // Both may finish in the same ms: the retention then goes by member,
    // and "a-old" sorts first, so it is the one trimmed either way.
    await w.enqueue([{ id: "a-old" }, { id: "b-new" }]);
    const old = await claimOne(w);
    await ops.appendLogs([{ jobId: "a-old", token: old.token, lines: ["kept until trimmed"] }], 10);
    await w.complete([old]);
    await w.complete([await claimOne(w)]);
    assert.equal(await trim(w, 1), 1);
    assert.equal(await w.client.exists(k.job("a-old"), k.logs("a-old")), 0);
    assert.equal(await ops.getLogs("a-old"), undefined);
    assert.deepEqual(await ops.getLogs("b-new"), []);
  });

  it("dedupe: returns the holder's id while it is pending or running, stores nothing new", async () => {
    const { w, k } = open();
    const dedupe = { key: "user-7", ttlMs: 0 };
    const first = await w.enqueue([
      { id: "d1", dedupe },
      { id: "d2", dedupe },
    ]);
    assert.deepEqual(
      first,
      [{ kind: "stored" }, { kind: "deduped", to: "d1" }],
      "within one batch",
    );
    assert.deepEqual(enqueuedIds(["d1", "d2"], first), ["d1", "d1"]);
    const job = await claimOne(w);
    assert.deepEqual(await w.enqueue([{ id: "d3", dedupe }]), [{ kind: "deduped", to: "d1" }]);
    assert.equal(await w.client.exists(k.job("d2"), k.job("d3")), 0, "nothing stored");
    assert.equal(await w.client.zcard(k.pending), 0);
    await w.complete([job]);
    assert.deepEqual(
      await w.enqueue([{ id: "d4", dedupe }]),
      [{ kind: "stored" }],
      "ttl 0: free once ended",
    );
    assert.deepEqual(await w.enqueue([{ id: "d4", dedupe }]), [{ kind: "existed" }]);
  });

  it("dedupe: holds within ttlMs of the holder's creation after it ended, then frees the key", async () => {
    const { w, ops } = open();
    const dedupe = { key: "report", ttlMs: 300 };
    await w.enqueue([{ id: "t1", dedupe }]);
    await w.complete([await claimOne(w)]);
    assert.deepEqual(await w.enqueue([{ id: "t2", dedupe }]), [{ kind: "deduped", to: "t1" }]);
    assert.equal(await ops.clean({ status: "completed", limit: 1 }), 1);
    assert.deepEqual(
      await w.enqueue([{ id: "t3", dedupe }]),
      [{ kind: "stored" }],
      "removal frees the key",
    );
    const created = Number(await w.client.hget(w.keys.job("t3"), "c"));
    await w.complete([await claimOne(w)]);
    // Retention deleting the holder does not shorten the window.
    assert.equal(await trim(w, 0), 1);
    assert.deepEqual(await w.enqueue([{ id: "t4", dedupe }]), [{ kind: "deduped", to: "t3" }]);
    await w.until(created + dedupe.ttlMs);
    assert.deepEqual(await w.enqueue([{ id: "t5", dedupe }]), [{ kind: "stored" }], "ttl passed");
    assert.deepEqual(await w.enqueue([{ id: "t6", dedupe }]), [{ kind: "deduped", to: "t5" }]);
  });

  it("dedupe: a pending holder keeps the key past its ttl", async () => {
    const { w } = open();
    const dedupe = { key: "slow", ttlMs: 50 };
    await w.enqueue([{ id: "s1", dedupe, delayMs: 60_000 }]);
    await w.until((await w.now()) + 80);
    assert.deepEqual(await w.enqueue([{ id: "s2", dedupe }]), [{ kind: "deduped", to: "s1" }]);
  });

  it("per-job timeoutMs: stored at enqueue and handed over by claim; none means the task's", async () => {
    const { w, k } = open();
    await w.enqueue([{ id: "fast", timeoutMs: 500 }, { id: "plain" }]);
    const jobs = await w.claim(2, 60_000);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.timeoutMs]),
      [
        ["fast", 500],
        ["plain", undefined],
      ],
    );
    assert.equal(await w.client.hget(k.job("fast"), "i"), "500");
  });

  it("refuses bad dedupe and timeout options with a code naming the option", () => {
    const bad: [() => unknown, string][] = [
      [() => parseDedupe({ key: "" }), "dedupe.key"],
      [() => parseDedupe({ key: "x".repeat(513) }), "dedupe.key"],
      [() => parseDedupe({ key: "k", ttlMs: -1 }), "dedupe.ttlMs"],
      [() => parseDedupe({ key: "k", ttlMs: 31 * 86_400_000 }), "dedupe.ttlMs"],
      [() => parseDedupe({ key: "k", ttl: 5 }), "dedupe.ttl"],
      [() => parseDedupe("k"), "dedupe"],
      [() => parseJobTimeout(0), "timeoutMs"],
      [() => parseJobTimeout(-5), "timeoutMs"],
      [() => parseJobTimeout(2 ** 31), "timeoutMs"],
      [() => parseJobTimeout(1.5), "timeoutMs"],
    ];
    for (const [parse, name] of bad) {
      assert.throws(
        parse,
        (e: { code?: string; message?: string }) =>
          e.code === ErrorCode.INVALID_OPTION && (e.message ?? "").includes(`\`${name}`),
        name,
      );
    }
    assert.deepEqual(parseDedupe({ key: "k" }), { key: "k", ttlMs: 0 });
    assert.equal(parseJobTimeout(undefined), undefined);
  });
});
