import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { ErrorCode, RedisQueue, type RetryingEvent, type WarningFields } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { monitorCommands } from "../support/redis-monitor.js";
import { ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithRedis("Redis leases and fencing", () => {
  let server: RedisHandle;
  const queues: RedisQueue[] = [];
  const scripted: ScriptedWorker[] = [];
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 500 })));
    for (const s of scripted) s.close();
    await server?.stop();
  });
  const setup = (options: { leaseMs?: number; process?: boolean } = {}) => {
    const prefix = `lease:${randomUUID()}:`;
    const q = new RedisQueue({
      url: server.url,
      prefix,
      threads: 1,
      leaseMs: options.leaseMs ?? 1000,
      checkIntervalMs: 100,
      pollIntervalMs: 100,
      process: options.process ?? true,
      logger: { warn: () => {} },
    });
    queues.push(q);
    const dead = new ScriptedWorker(server.url, prefix, `dead-${randomUUID()}`);
    scripted.push(dead);
    return { q, dead, prefix };
  };

  it("sends a job whose worker died back to pending, counting the attempt, and runs it again", async () => {
    const { q, dead } = setup({ process: false });
    const id = await q.enqueue(randomUUID(), "rq.pid", [], { maxRetries: 2 });
    const [claimed] = await dead.claim(1, 200);
    assert.equal(claimed?.id, id);
    const retrying: RetryingEvent[] = [];
    const warnings: (WarningFields | undefined)[] = [];
    const { q: worker } = setup();
    const prefixed = new RedisQueue({
      url: server.url,
      prefix: q.prefix,
      threads: 1,
      checkIntervalMs: 100,
      logger: { warn: (_message, fields) => warnings.push(fields) },
    });
    queues.push(prefixed);
    prefixed.on("retrying", (e) => retrying.push(e));
    await prefixed.start();
    const r = await prefixed.waitFor(id, { timeoutMs: 10_000 });
    assert.equal(r.status, "completed");
    assert.equal(r.attempts, 2, "the dead worker's attempt counts");
    assert.equal(r.result, process.pid);
    assert.equal(retrying[0]?.code, ErrorCode.LEASE_EXPIRED);
    assert.equal(retrying[0]?.attempt, 1);
    assert.deepEqual(
      warnings.filter((f) => f?.code === "LEASES_RECOVERED"),
      [{ code: "LEASES_RECOVERED", count: 1, jobIds: [id] }],
      "the recovery is logged with its code and the job",
    );
    await worker.close();
  });

  it("warns LEASE_LOST, with the job and its attempt, when the lease of a job running here is taken over, and stops it here", async () => {
    const prefix = `lease:${randomUUID()}:`;
    const warnings: (WarningFields | undefined)[] = [];
    const q = new RedisQueue({
      url: server.url,
      prefix,
      threads: 1,
      leaseMs: 1000,
      logger: { warn: (_message, fields) => warnings.push(fields) },
    });
    queues.push(q);
    const id = await q.enqueue(randomUUID(), "rq.sleep", [1500], { maxRetries: 1 });
    const started = async () => (await q.getResult(id))?.progress === "started";
    for (let i = 0; i < 500 && !(await started()); i++) await sleep(10);
    // Another worker's check finds the lease run out (its score set to 0),
    // sends the job back and clears its token: this worker's next renewal learns it lost it.
    const thief = new ScriptedWorker(server.url, prefix, "thief");
    scripted.push(thief);
    await thief.client.zadd(thief.keys.leases, 0, id);
    await thief.expire();
    const r = await q.waitFor(id, { timeoutMs: 10_000 });
    assert.equal(r.status, "completed", `${r.errorCode} ${r.error} ${JSON.stringify(warnings)}`);
    assert.equal(r.attempts, 2, "the lost attempt counted; the job ran again");
    assert.deepEqual(
      warnings.filter((f) => f?.code === "LEASE_LOST"),
      [{ code: "LEASE_LOST", jobId: id, attempt: 1 }],
    );
  });

  it("fails a job with ERR_LEASE_EXPIRED when its lease expires and no retry is left", async () => {
    const { q, dead } = setup({ process: false });
    const id = await q.enqueue(randomUUID(), "rq.pid", [], { maxRetries: 0 });
    await dead.claim(1, 100);
    await sleep(150);
    assert.equal(await dead.expire(), 1);
    const r = await q.getResult(id);
    assert.equal(r?.status, "failed");
    assert.equal(r?.errorCode, ErrorCode.LEASE_EXPIRED);
    assert.equal(r?.attempts, 1);
  });

  it("cancels a job whose cancel was asked when its lease expires", async () => {
    const { q, dead } = setup({ process: false });
    const id = await q.enqueue(randomUUID(), "rq.pid", [], { maxRetries: 5 });
    await dead.claim(1, 100);
    assert.equal(await dead.cancel(id), 2, "a running job: the cancel is recorded");
    await sleep(150);
    assert.equal(await dead.expire(), 1);
    assert.equal((await q.getResult(id))?.status, "cancelled");
  });

  it("refuses a late answer from an expired lease and keeps the new holder's", async () => {
    const { q, dead } = setup({ process: false });
    const id = await q.enqueue(randomUUID(), "rq.pid", [], { maxRetries: 3 });
    const [old] = await dead.claim(1, 100);
    await sleep(150);
    await dead.expire();
    const other = new ScriptedWorker(server.url, q.prefix, "other-worker");
    scripted.push(other);
    const [fresh] = await other.claim(1, 10_000);
    assert.equal(fresh?.attempt, 2);
    assert.deepEqual(await dead.complete([old!]), [0], "the late completion is refused");
    assert.deepEqual(await dead.fail([old!], "f"), [0], "so is a late failure");
    assert.deepEqual(await dead.handBack([old!]), [0], "and a late hand-back");
    assert.deepEqual(
      await dead.renew([old!], 1000),
      [id, "lost"],
      "renewing reports the lease lost",
    );
    assert.equal((await q.getResult(id))?.status, "running");
    assert.deepEqual(await other.complete([fresh!]), [1]);
    assert.deepEqual(
      await other.complete([fresh!]),
      [1],
      "repeating an applied completion is harmless",
    );
    const r = await q.getResult(id);
    assert.equal(r?.status, "completed");
    assert.equal(r?.attempts, 2);
  });

  it("keeps renewing the lease of a job that runs longer than it, so it runs once", async () => {
    const { q } = setup({ leaseMs: 800 });
    const retrying: RetryingEvent[] = [];
    q.on("retrying", (e) => retrying.push(e));
    const r = await q.waitFor(await q.enqueue(randomUUID(), "rq.sleep", [2500]), {
      timeoutMs: 10_000,
    });
    assert.equal(r.status, "completed");
    assert.equal(r.attempts, 1);
    assert.deepEqual(retrying, []);
  });

  it("renews every held lease with one call per tick, however many jobs it holds", async () => {
    const prefix = `lease:${randomUUID()}:`;
    const q = new RedisQueue({
      url: server.url,
      prefix,
      threads: 1,
      concurrencyPerThread: 8,
      leaseMs: 400,
      logger: { warn() {} },
    });
    queues.push(q);
    const renewals: number[] = [];
    const { port, hostname } = new URL(server.url);
    const monitor = await monitorCommands(Number(port), hostname, (args) => {
      // EVALSHA <sha> <numkeys=1> <leases key> <prefix> <leaseMs> <N> ...
      if (
        args[0]?.toLowerCase() === "evalsha" &&
        args[3] === `${prefix}leases` &&
        args[5] === "400"
      ) {
        renewals.push(Number(args[6]));
      }
    });
    const t0 = Date.now();
    try {
      const ids = await Promise.all(
        Array.from({ length: 8 }, () => q.enqueue(randomUUID(), "rq.sleep", [1200])),
      );
      await Promise.all(ids.map((id) => q.waitFor(id, { timeoutMs: 10_000 })));
    } finally {
      monitor.destroy();
    }
    const ticks = (Date.now() - t0) / 100;
    const full = renewals.filter((n) => n === 8);
    assert.ok(full.length >= 5, `renewed all 8 leases together (calls: ${renewals.join(",")})`);
    assert.ok(
      renewals.length <= ticks + 3,
      `one renewal per 100 ms tick, not one per job (${renewals.length} calls in ${ticks} ticks)`,
    );
  });
});
