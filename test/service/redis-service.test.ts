import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";
import {
  CLI,
  type CliProcess,
  enqueue,
  pollJob,
  readEvents,
  request,
  startCli,
} from "./harness.js";

describeWithRedis("the service over Redis, with a separate worker process", () => {
  let redis: RedisHandle;
  let service: CliProcess;
  let worker: ReturnType<typeof spawn>;
  let workerExit: Promise<number | string>;
  let workerOut = "";

  before(async () => {
    redis = await startRedis();
    service = await startCli([
      "serve",
      "--port",
      "0",
      "--redis",
      redis.url,
      "--prefix",
      "svc-test:",
    ]);
    worker = spawn(process.execPath, [CLI, "worker", "--threads", "1", "demo"], {
      env: { ...process.env, RAPIDAI_REDIS_URL: redis.url, RAPIDAI_PREFIX: "svc-test:" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    worker.stdout!.on("data", (d) => (workerOut += d));
    worker.stderr!.on("data", (d) => (workerOut += d));
    workerExit = new Promise((resolve) =>
      worker.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
    );
  });

  after(async () => {
    service?.child.kill("SIGKILL");
    worker?.kill("SIGKILL");
    await redis?.stop();
  });

  test("the service only enqueues and reads: the worker process runs the jobs", async () => {
    const stats = await request(`${service.url}/api/stats`);
    assert.equal(stats.body.backend, "redis");
    assert.deepEqual(stats.body.tasks, ["fail", "fib", "flaky", "primes", "sleep"]);
    const id = await enqueue(service.url, "fib", [20]);
    const job = await pollJob(service.url, id);
    assert.equal(job.status, "completed", workerOut);
    assert.equal(job.result, 6765);
    assert.deepEqual(job.args, [20]);
    const listed = await request(`${service.url}/jobs?status=completed`);
    assert.ok(listed.body.jobs.some((j: { job_id: string }) => j.job_id === id));
    assert.equal(
      listed.body.total,
      (await request(`${service.url}/api/stats`)).body.counts.completed,
    );
  });

  test("events of jobs run by the worker process reach the service's stream", async () => {
    let id = "";
    const { events } = await readEvents(
      `${service.url}/events`,
      (evs) => evs.some((e) => e.event === "completed" && e.data.job_id === id),
      { onOpen: async () => (id = await enqueue(service.url, "sleep", [300])) },
    );
    const names = events.filter((e) => e.data?.job_id === id).map((e) => e.event);
    for (const name of ["enqueued", "started", "progress", "completed"]) {
      assert.ok(names.includes(name), `${name} in ${names.join(",")}`);
    }
  });

  test("a job running in the worker is cancelled through the service, and a failed one shows its error", async () => {
    const sleeping = await enqueue(service.url, "sleep", [20_000]);
    await pollJob(service.url, sleeping, (j) => j.status === "running");
    const del = await request(`${service.url}/jobs/${sleeping}`, { method: "DELETE" });
    assert.equal(del.status, 200);
    assert.equal((await pollJob(service.url, sleeping)).status, "cancelled");

    const failing = await request(`${service.url}/jobs/fail`, {
      body: { args: ["over redis"], max_retries: 0 },
    });
    const failed = await pollJob(service.url, failing.body.job_id);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error, "over redis");
    // The stack came from the worker process's thread, through Redis.
    const withStack = await request(`${service.url}/jobs/${failing.body.job_id}?include=stack`);
    assert.match(withStack.body.error_stack, /^Error: over redis\n\s+at .*\bfail\b/);

    const metrics = await request(`${service.url}/metrics`);
    assert.match(metrics.text, /^rapidai_jobs\{status="cancelled"\} 1$/m);
    assert.match(metrics.text, /^rapidai_job_failures_total\{task="fail"\} 1$/m);
  });

  test("a seed-style module with its own Redis queue is served enqueue-only and run by its worker", async () => {
    const seed = fileURLToPath(new URL("./fixtures/seed-style-tasks.js", import.meta.url));
    const env = { SEED_REDIS_URL: redis.url };
    const seedService = await startCli(
      ["serve", "--port", "0", "--redis", redis.url, "--tasks", seed],
      env,
    );
    const seedWorker = spawn(process.execPath, [CLI, "worker", "--threads", "1", seed], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    try {
      const stats = await request(`${seedService.url}/api/stats`);
      assert.deepEqual(stats.body.tasks, ["processData"]);
      assert.equal(stats.body.backend, "redis");
      const id = await enqueue(seedService.url, "processData", ["d-1"]);
      const job = await pollJob(seedService.url, id);
      assert.equal(job.status, "completed");
      assert.equal(job.result.data_id, "d-1");
      assert.equal(job.result.result, "D-1");
      assert.equal(job.result.pid, seedWorker.pid, "the worker process ran it, not the service");
    } finally {
      seedService.child.kill("SIGKILL");
      seedWorker.kill("SIGKILL");
    }
  });

  test("service and worker exit 0 on SIGTERM", async () => {
    service.child.kill("SIGTERM");
    worker.kill("SIGTERM");
    assert.equal(await service.exited, 0);
    assert.equal(await workerExit, 0, workerOut);
  });
});
