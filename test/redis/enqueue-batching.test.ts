import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

/** Script calls the server has run so far (EVALSHA and EVAL). */
async function scriptCalls(raw: Redis): Promise<number> {
  const info = await raw.info("commandstats");
  let calls = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) calls += Number(m[1]);
  return calls;
}

describeWithRedis("enqueues made in the same tick", () => {
  let server: RedisHandle;
  let raw: Redis;
  let queue: RedisQueue;
  before(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
    queue = new RedisQueue({ url: server.url, prefix: `batch:${randomUUID()}:`, process: false });
    await queue.countJobs(); // connect and load the scripts first
  });
  after(async () => {
    await queue?.close();
    raw?.disconnect();
    await server?.stop();
  });

  it("share one script call, and each caller gets its own job id", async () => {
    const before = await scriptCalls(raw);
    const ids = Array.from({ length: 300 }, () => randomUUID());
    const back = await Promise.all(ids.map((id, i) => queue.enqueue(id, "rq.sleep", [i])));
    const calls = (await scriptCalls(raw)) - before;
    assert.deepEqual(back, ids);
    assert.equal((await queue.countJobs()).pending, 300);
    assert.ok(calls <= 2, `300 enqueues in one tick took ${calls} script calls`);
    const last = await queue.getResult(ids[299]!);
    assert.deepEqual(last?.args, [299]);
  });

  it("fail a bad job alone: the others of the tick are stored", async () => {
    const good = [randomUUID(), randomUUID()];
    const results = await Promise.allSettled([
      queue.enqueue(good[0]!, "rq.sleep", [1]),
      queue.enqueue(randomUUID(), "rq.sleep", [() => 1]),
      queue.enqueue("bad id!", "rq.sleep", [1]),
      queue.enqueue(good[1]!, "rq.sleep", [3]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "rejected", "fulfilled"],
    );
    const codes = results.map((r) => (r.status === "rejected" ? r.reason?.code : undefined));
    assert.deepEqual(codes, [
      undefined,
      ErrorCode.ARGUMENT_NOT_CLONEABLE,
      ErrorCode.INVALID_JOB_ID,
      undefined,
    ]);
    for (const id of good) assert.equal((await queue.getResult(id))?.status, "pending");
  });

  it("store each job's options exactly: priorities at both ends, a delay of 60 days, 1,000 retries", async () => {
    const jobs = [
      { jobId: randomUUID(), options: { priority: -1_000_000 } },
      { jobId: randomUUID(), options: { priority: 1_000_000, maxRetries: 1000 } },
      { jobId: randomUUID(), options: { delayMs: 60 * 24 * 3_600_000 } },
    ];
    const before = Date.now();
    await queue.enqueueMany(jobs.map((j) => ({ ...j, task: "rq.sleep", args: [] })));
    const prefix = queue.prefix;
    const hash = (id: string) => raw.hgetall(`${prefix}job:${id}`);
    const [low, high, later] = await Promise.all(jobs.map((j) => hash(j.jobId)));
    assert.equal(low!.p, "-1000000");
    assert.equal(high!.p, "1000000");
    assert.equal(high!.m, "1000");
    assert.equal(later!.s, "pending");
    const due = Number(await raw.zscore(`${prefix}delayed`, jobs[2]!.jobId));
    const expected = before + 60 * 24 * 3_600_000;
    assert.ok(Math.abs(due - expected) < 60_000, `due at ${due}, expected about ${expected}`);
    // The highest priority is claimed first.
    const first = (await raw.zrange(`${prefix}ready`, 0, 0))[0];
    assert.ok(first?.endsWith(jobs[1]!.jobId), `first in line: ${first}`);
  });
});
