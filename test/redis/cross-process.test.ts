import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, type JobQueueEvents, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import "../fixtures/ghost-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";
import { until } from "../support/until.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";

describeWithRedis("a Redis queue across processes", () => {
  let server: RedisHandle;
  let worker: WorkerProcess;
  let producer: RedisQueue;
  let raw: Redis;
  const prefix = `xp:${randomUUID()}:`;
  const log: { name: keyof JobQueueEvents; e: any }[] = [];

  before(async () => {
    server = await startRedis();
    worker = await startWorker({ url: server.url, prefix, threads: 1 });
    producer = new RedisQueue({ url: server.url, prefix, process: false });
    for (const name of [
      "status",
      "enqueued",
      "started",
      "completed",
      "failed",
      "cancelled",
      "progress",
    ] as const) {
      producer.on(name, (e: any) => log.push({ name, e }));
    }
    raw = new Redis(server.url);
  });
  after(async () => {
    raw?.disconnect();
    await producer?.close();
    worker?.kill("SIGKILL");
    await server?.stop();
  });

  it("runs a job in the worker process and shows its events and result here", async () => {
    const id = await producer.enqueue(randomUUID(), "rq.pid", []);
    const r = await producer.waitFor(id, { timeoutMs: 10_000 });
    assert.equal(r.status, "completed");
    assert.equal(r.result, worker.pid, "the job ran in the worker process");
    const names = await until("the completed event", () => {
      const n = log.filter((x) => x.e.jobId === id).map((x) => x.name);
      return n.includes("completed") && n;
    });
    assert.deepEqual(
      names.filter((n) => n !== "status"),
      ["enqueued", "started", "completed"],
    );
    assert.equal(names.filter((n) => n === "status").length, 3);
    assert.equal(log.find((x) => x.e.jobId === id && x.name === "completed")!.e.result, worker.pid);
    assert.deepEqual(
      (await producer.listJobs("completed")).map((j) => j.jobId),
      [id],
    );
  });

  it("cancels a job running in another process: its signal aborts there, it stops on its own before the grace period, and cancel resolves once it stopped", async () => {
    const where = async () =>
      (
        await producer.waitFor(await producer.enqueue(randomUUID(), "rq.where", []), {
          timeoutMs: 10_000,
        })
      ).result as { pid: number; threadId: number };
    const before = await where();
    assert.equal(before.pid, worker.pid);
    const dir = mkdtempSync(join(tmpdir(), "rapidai-xp-"));
    try {
      const file = join(dir, "aborted.log");
      const id = await producer.enqueue(randomUUID(), "rq.sleep", [60_000, file]);
      await until(
        "the job to start",
        async () => (await producer.getResult(id))?.progress === "started",
      );
      const t0 = Date.now();
      assert.equal(await producer.cancel(id), true);
      const took = Date.now() - t0;
      // The worker's cancelGraceMs is the default, 1 s: past it the thread would be terminated.
      assert.ok(took < 1_000, `cancel resolved after ${took} ms`);
      const r = await producer.getResult(id);
      assert.equal(r?.status, "cancelled");
      assert.equal(r?.attempts, 1);
      const notes = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        notes.map((n) => [n.code, n.pid, n.threadId]),
        [[ErrorCode.CANCELLED, worker.pid, before.threadId]],
        "the job saw its signal abort, with the cancel's reason, in the worker",
      );
      assert.ok(notes[0].at - t0 < 1_000, "before the grace period ran out");
      assert.deepEqual(await where(), before, "the worker's thread was not terminated");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("cancels a job in another process that ignores its signal, by terminating its thread", async () => {
    const id = await producer.enqueue(randomUUID(), "rq.spin", [60_000]);
    await until(
      "the job to start",
      async () => (await producer.getResult(id))?.progress === "started",
    );
    const t0 = Date.now();
    assert.equal(await producer.cancel(id), true);
    assert.equal((await producer.getResult(id))?.status, "cancelled");
    assert.ok(Date.now() - t0 < 4_000, "within the grace period and a little");
    const next = await producer.waitFor(await producer.enqueue(randomUUID(), "rq.pid", []), {
      timeoutMs: 10_000,
    });
    assert.equal(next.result, worker.pid, "the worker carried on with a new thread");
  });

  it("fails a job naming a task the worker does not know, at once and for good", async () => {
    const id = await producer.enqueue(randomUUID(), "ghost.task", []);
    const r = await producer.waitFor(id, { timeoutMs: 10_000 });
    assert.equal(r.status, "failed");
    assert.equal(r.errorCode, ErrorCode.UNKNOWN_TASK);
    assert.equal(r.attempts, 1, "no retry");
    assert.match(r.error ?? "", /ghost\.task/);
  });

  it("fails a job whose stored payload is garbage, and the worker lives on", async () => {
    const id = await producer.enqueue(randomUUID(), "rq.sleep", [1], { delayMs: 400 });
    await raw.hset(`${prefix}job:${id}`, "a", Buffer.from([0xc1, 0xff, 0x00, 0x13]));
    const r = await producer.waitFor(id, { timeoutMs: 10_000 });
    assert.equal(r.status, "failed");
    assert.equal(r.errorCode, ErrorCode.PAYLOAD_CORRUPT);
    assert.equal(r.attempts, 1);
    const next = await producer.waitFor(await producer.enqueue(randomUUID(), "rq.pid", []), {
      timeoutMs: 10_000,
    });
    assert.equal(next.status, "completed");
  });

  it("refuses to run jobs in a queue built with process: false", async () => {
    await assert.rejects(
      () => producer.start(),
      (e) => (e as { code?: string }).code === ErrorCode.NOT_A_WORKER,
    );
  });
});
