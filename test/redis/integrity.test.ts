/**
 * One bad record, one poisoned key or one huge result harms only its own job:
 * the claim and write-back scripts check each record before they write, and
 * narrow an error to the job that causes it, so every other job runs.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, type JobCounts, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

const total = (c: JobCounts) => c.pending + c.running + c.completed + c.failed + c.cancelled;

async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithRedis("a Redis queue with one bad record", () => {
  const servers: RedisHandle[] = [];
  const queues: RedisQueue[] = [];
  const raws: Redis[] = [];
  after(async () => {
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 500 })));
    for (const r of raws) r.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  });
  const setup = async (args: string[] = []) => {
    const s = await startRedis({ args });
    servers.push(s);
    const raw = new Redis(s.url);
    raws.push(raw);
    return { s, raw, prefix: `integrity:${randomUUID()}:` };
  };
  const queue = (o: ConstructorParameters<typeof RedisQueue>[0]) => {
    const q = new RedisQueue({ threads: 2, logger: { warn() {} }, ...o });
    queues.push(q);
    return q;
  };

  it("fails a job whose record is malformed (bad m, bad n, no t) alone with ERR_PAYLOAD_CORRUPT; 2,000 others run and the counts agree", async (t) => {
    const { s, raw, prefix } = await setup();
    const producer = queue({ url: s.url, prefix, process: false });
    const ids = Array.from({ length: 2000 }, (_, i) => `j${i}`);
    await producer.enqueueMany(ids.map((jobId) => ({ jobId, task: "rq.pid", args: [] })));
    const bad = { j700: ["HSET", "m", "lots"], j1000: ["HSET", "n", "NaN!"], j1300: ["HDEL", "t"] };
    for (const [id, [cmd, field, value]] of Object.entries(bad)) {
      const key = `${prefix}job:${id}`;
      if (cmd === "HSET") await raw.hset(key, field!, value!);
      else await raw.hdel(key, field!);
    }
    const warnings: string[] = [];
    const worker = queue({
      url: s.url,
      prefix,
      pollIntervalMs: 100,
      logger: { warn: (m) => warnings.push(m) },
    });
    await worker.start();
    const ended = await until("every job to end", 30_000, async () => {
      const c = await producer.countJobs();
      return c.completed + c.failed === ids.length;
    }).then(
      () => true,
      () => false,
    );
    const results = await Promise.all(ids.map((id) => producer.getResult(id)));
    const healthy = results.filter((_, i) => !(ids[i]! in bad));
    const verdict = {
      ok: healthy.filter((r) => r?.status === "completed").length,
      lost: healthy.filter((r) => r === undefined).length,
      stranded: healthy.filter((r) => r?.status === "pending" || r?.status === "running").length,
      wronglyFailed: healthy.filter((r) => r?.status === "failed").length,
    };
    t.diagnostic(`corrupt records, ${ids.length} jobs: ${JSON.stringify(verdict)}`);
    assert.ok(ended, "every job ended");
    assert.deepEqual(verdict, { ok: ids.length - 3, lost: 0, stranded: 0, wronglyFailed: 0 });
    const counts = await producer.countJobs();
    assert.deepEqual(counts, {
      pending: 0,
      running: 0,
      completed: ids.length - 3,
      failed: 3,
      cancelled: 0,
    });
    for (const id of Object.keys(bad)) {
      const r = await producer.getResult(id);
      assert.equal(r?.status, "failed", id);
      assert.equal(r?.errorCode, ErrorCode.PAYLOAD_CORRUPT, id);
      assert.match(r?.error ?? "", /malformed/, id);
    }
    // The records agree with the counts: no job is left running without a
    // lease or pending outside the ready set.
    const records = await producer.listJobs(undefined, { limit: 10_000 });
    assert.equal(records.length, total(counts));
    assert.equal(records.filter((r) => r.status === "completed").length, ids.length - 3);
    assert.equal(await raw.zcard(`${prefix}leases`), 0);
    assert.equal(await raw.zcard(`${prefix}ready`), 0);
  });

  it("narrows a WRONGTYPE key of one running job to that job: the others complete, and the log names it", async () => {
    const { s, raw, prefix } = await setup();
    const warnings: string[] = [];
    const worker = queue({
      url: s.url,
      prefix,
      threads: 4,
      leaseMs: 1000,
      checkIntervalMs: 100,
      pollIntervalMs: 100,
      logger: { warn: (m) => warnings.push(m) },
    });
    const ids = await worker.enqueueMany(
      Array.from({ length: 40 }, (_, i) => ({ jobId: `w${i}`, task: "rq.sleep", args: [300] })),
    );
    await worker.start();
    let poisoned = "";
    await until("a job to run", 10_000, async () => {
      const running = await worker.listJobs("running", { limit: 1 });
      poisoned = running[0]?.jobId ?? "";
      return poisoned !== "";
    });
    const key = `${prefix}job:${poisoned}`;
    await raw.multi().del(key).set(key, "not a hash").exec();
    const others = ids.filter((id) => id !== poisoned);
    await until("the others to end", 30_000, async () => {
      const c = await worker.countJobs();
      return c.completed + c.failed >= others.length;
    });
    for (const id of others) {
      const r = await worker.getResult(id);
      assert.equal(r?.status, "completed", `${id}: ${r?.error}`);
    }
    assert.equal(await raw.get(key), "not a hash", "the foreign value is left alone");
    assert.equal(await raw.zscore(`${prefix}leases`, poisoned), null, "and holds no lease");
    assert.ok(
      warnings.some((w) => w.includes(poisoned) && /not a job record|WRONGTYPE/.test(w)),
      warnings.join("\n"),
    );
  });

  it("fails a result over maxResultBytes with ERR_RESULT_TOO_LARGE on the worker thread; the others complete (proto-max-bulk-len 1mb)", async () => {
    const { s, prefix } = await setup(["--proto-max-bulk-len", "1mb"]);
    const worker = queue({
      url: s.url,
      prefix,
      maxResultBytes: 256 * 1024,
      pollIntervalMs: 100,
    });
    // 20 results of 200 KB each fit the limit one by one, but not one call:
    // the write-back splits them; the 2 MB one never leaves its thread.
    const jobs = Array.from({ length: 20 }, (_, i) => ({
      jobId: `r${i}`,
      task: "rq.blob",
      args: [200_000],
    }));
    jobs.splice(7, 0, { jobId: "huge", task: "rq.blob", args: [2_000_000] });
    const ids = await worker.enqueueMany(jobs);
    await worker.start();
    const results = await Promise.all(ids.map((id) => worker.waitFor(id, { timeoutMs: 30_000 })));
    for (const r of results) {
      if (r.jobId === "huge") {
        assert.equal(r.status, "failed");
        assert.equal(r.errorCode, ErrorCode.RESULT_TOO_LARGE);
        assert.match(r.error ?? "", /maxResultBytes/);
        assert.equal(r.attempts, 1, "not retried: the same job makes the same result");
      } else {
        assert.equal(r.status, "completed", `${r.jobId}: ${r.error}`);
        assert.equal((r.result as string).length, 200_000);
      }
    }
  });

  it("refuses a maxResultBytes out of range with ERR_INVALID_OPTION", () => {
    for (const bad of [0, -1, 1.5, "64mb", 600 * 1024 * 1024]) {
      assert.throws(
        () => new RedisQueue({ maxResultBytes: bad as number }),
        (e: unknown) =>
          (e as { code?: string }).code === ErrorCode.INVALID_OPTION &&
          /maxResultBytes/.test((e as Error).message),
        String(bad),
      );
    }
  });
});
