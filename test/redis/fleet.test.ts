/**
 * The fleet: every process that runs a queue's jobs registers itself (host,
 * pid, threads, jobs held, version, start, heartbeat) under the prefix with
 * a TTL; `listWorkers()` lists them from any process; one killed with
 * SIGKILL drops out within its TTL, one stopped gracefully at once.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { after, before, it } from "node:test";
import { InMemoryQueue, RedisQueue, type WorkerInfo } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { CLI, request, startService } from "../service/harness.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";
import { until } from "../support/until.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";

const VERSION = JSON.parse(
  readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
).version;
/** The worker processes' lease: checks every 300 ms, so a record lives 1 s without renewal. */
const LEASE_MS = 600;
const TTL_MS = 1_000;

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeWithRedis("the worker fleet of a Redis queue", () => {
  let server: RedisHandle;
  const workers: WorkerProcess[] = [];
  const prefix = `{fleet-${randomUUID().slice(0, 8)}}:`;
  let reader: RedisQueue;

  before(async () => {
    server = await startRedis();
    reader = new RedisQueue({ url: server.url, prefix, process: false });
  });
  after(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await reader.close();
    await server.stop();
  });

  it("lists every worker process with its host, pid, threads, jobs held and version", async () => {
    assert.deepEqual(await reader.listWorkers(), [], "no worker yet");
    for (const threads of [1, 3]) {
      workers.push(
        await startWorker({ url: server.url, prefix, threads, leaseMs: LEASE_MS, graceMs: 0 }),
      );
    }
    const job = await reader.enqueue(randomUUID(), "rq.sleep", [30_000]);
    const list = await until(
      "both workers, one holding the job",
      async () => {
        const l = await reader.listWorkers();
        return l.length === 2 && l.some((w) => w.running === 1) ? l : undefined;
      },
      10_000,
    );
    const byPid = new Map<number, WorkerInfo>(list.map((w) => [w.pid, w]));
    assert.deepEqual([...byPid.keys()].sort(), workers.map((w) => w.pid).sort());
    const [one, three] = workers.map((w) => byPid.get(w.pid)!);
    assert.equal(one!.threads, 1);
    assert.equal(three!.threads, 3);
    for (const w of list) {
      assert.equal(w.host, hostname());
      assert.equal(w.backend, "redis");
      assert.equal(w.prefix, prefix);
      assert.equal(w.version, VERSION);
      assert.ok(w.startedAt.getTime() <= w.heartbeatAt.getTime());
      assert.ok(Date.now() - w.heartbeatAt.getTime() < TTL_MS + 500, "a recent heartbeat");
      assert.match(w.id, new RegExp(`^${hostname()}:${w.pid}:`));
    }

    // The same list over HTTP and on the command line.
    const service = await startService({ queue: reader });
    try {
      const answer = await request(`${service.base}/workers`);
      assert.equal(answer.status, 200);
      assert.deepEqual(
        answer.body.workers.map((w: { pid: number }) => w.pid).sort(),
        workers.map((w) => w.pid).sort(),
      );
      const w = answer.body.workers[0];
      assert.equal(typeof w.started_at, "string");
      assert.equal(typeof w.heartbeat_at, "string");
      assert.equal(w.version, VERSION);
      const cli = await runCli(["workers", "--url", service.base, "--json"]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(JSON.parse(cli.stdout).workers.length, 2);
    } finally {
      await service.close();
    }
    const direct = await runCli(["workers", "--redis", server.url, "--prefix", prefix]);
    assert.equal(direct.code, 0, direct.stderr);
    for (const w of workers) assert.match(direct.stdout, new RegExp(`\\b${w.pid}\\b`));
    assert.match(direct.stdout, /2 process\(es\), 4 threads, 1 running/);
    await reader.cancel(job);
  });

  it("drops a worker killed with SIGKILL within its TTL, and one stopped gracefully at once", async () => {
    const [killed, stopped] = workers;
    killed!.kill("SIGKILL");
    await killed!.exited;
    const at = Date.now();
    await until(
      "the killed worker to drop out",
      async () =>
        (await reader.listWorkers()).some((w) => w.pid === killed!.pid) ? undefined : true,
      TTL_MS * 5,
    );
    const gone = Date.now() - at;
    assert.ok(gone <= TTL_MS + 300, `gone ${gone} ms after the kill (TTL ${TTL_MS} ms)`);
    assert.deepEqual(
      (await reader.listWorkers()).map((w) => w.pid),
      [stopped!.pid],
    );

    stopped!.kill("SIGTERM");
    assert.equal(await stopped!.exited, 0);
    assert.deepEqual(await reader.listWorkers(), [], "a graceful stop leaves the fleet");
  });
});

it("an in-memory queue lists itself once it runs jobs, and nothing before", async () => {
  const q = new InMemoryQueue({ threads: 2 });
  try {
    assert.deepEqual(await q.listWorkers(), []);
    await q.start();
    const [me, ...rest] = await q.listWorkers();
    assert.deepEqual(rest, []);
    assert.equal(me!.pid, process.pid);
    assert.equal(me!.threads, 2);
    assert.equal(me!.backend, "memory");
    assert.equal(me!.running, 0);
  } finally {
    await q.close();
  }
});
