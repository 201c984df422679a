import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";
import { startWorker } from "../support/worker-process.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

it("rapidai-jobs worker --help describes the command and its options", () => {
  const r = spawnSync(process.execPath, [MAIN, "worker", "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: rapidai-jobs worker \[options\] <task modules\.\.\.>/);
  for (const flag of ["--redis", "--prefix", "--threads", "--lease", "--grace"])
    assert.ok(r.stdout.includes(flag), flag);
});

it("rapidai-jobs worker without task modules is a usage error", () => {
  const r = spawnSync(process.execPath, [MAIN, "worker"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /task module/);
});

it("rapidai-jobs worker reports a task module that fails to import, and exits", () => {
  const r = spawnSync(process.execPath, [MAIN, "worker", "/no/such/module.js"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot import task module \/no\/such\/module\.js/);
});

describeWithRedis("rapidai-jobs worker on SIGTERM", () => {
  let server: RedisHandle;
  let producer: RedisQueue;
  const prefix = `term:${randomUUID()}:`;
  before(async () => {
    server = await startRedis();
    producer = new RedisQueue({ url: server.url, prefix, process: false });
  });
  after(async () => {
    await producer?.close();
    await server?.stop();
  });

  it("runs the jobs of the queue a task module binds its tasks to, with that queue's URL and prefix", async () => {
    const boundPrefix = `bound:${randomUUID()}:`;
    const env = { RAPIDAI_TEST_REDIS_URL: server.url, RAPIDAI_TEST_PREFIX: boundPrefix };
    const worker = await startWorker({
      url: server.url,
      prefix: "unused:",
      env,
      modules: [fileURLToPath(new URL("../fixtures/bound-tasks.js", import.meta.url))],
      bare: true,
    });
    try {
      assert.match(worker.output(), new RegExp(`prefix ${boundPrefix}`));
      // The producer knows the task too (enqueue checks the name), through the same module.
      Object.assign(process.env, env);
      await import("../fixtures/bound-tasks.js");
      const q = new RedisQueue({ url: server.url, prefix: boundPrefix, process: false });
      try {
        const r = await q.waitFor(await q.enqueue(randomUUID(), "bound.shout", ["hi"]), {
          timeoutMs: 10_000,
        });
        assert.equal(r.result, `HI from ${worker.pid}`);
      } finally {
        await q.close();
      }
    } finally {
      worker.kill("SIGKILL");
    }
  });

  it("lets short jobs finish, hands long ones back at once without counting the attempt, and exits 0", async () => {
    const worker = await startWorker({ url: server.url, prefix, threads: 4, graceMs: 1000 });
    const short = await Promise.all(
      [1, 2].map(() => producer.enqueue(randomUUID(), "rq.sleep", [300])),
    );
    const long = await Promise.all(
      [1, 2].map(() => producer.enqueue(randomUUID(), "rq.sleep", [60_000])),
    );
    for (const id of [...short, ...long]) {
      for (let i = 0; i < 500 && (await producer.getResult(id))?.progress !== "started"; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const t0 = Date.now();
    worker.kill("SIGTERM");
    assert.equal(await worker.exited, 0, worker.output());
    assert.ok(Date.now() - t0 < 5_000, "no wait for a lease (30 s) to run out");
    for (const id of short) assert.equal((await producer.getResult(id))?.status, "completed");
    for (const id of long) {
      const r = await producer.getResult(id);
      assert.equal(r?.status, "pending", "handed back");
      assert.equal(r?.attempts, 0, "the interrupted attempt does not count");
    }
    assert.match(worker.output(), /SIGTERM/);

    const next = await startWorker({ url: server.url, prefix, threads: 2 });
    try {
      await producer.cancel(long[0]!);
      await producer.cancel(long[1]!);
    } finally {
      next.kill("SIGKILL");
    }
  });
});
