/**
 * A queue across hosts: Redis, two worker hosts and a producer host, each a
 * network namespace of its own with its own address and hostname
 * (test/support/net-hosts.ts), talking over a bridge, never over loopback.
 * The workers are the real `rapidai-jobs worker`; the producer is a process
 * on its host driven over IPC (this process is outside the namespaces and
 * cannot reach Redis). Without root or `ip` the tests skip with one loud
 * line; under CI as root they run.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ErrorCode } from "rapidai/background";
import { createNetHosts, ipBin, type NetHosts, netHostsMissing } from "../support/net-hosts.js";
import {
  type Agent,
  type HostRedis,
  startAgent,
  startHostRedis,
  waitForOutput,
} from "../support/net-processes.js";
import { describeWithRedis } from "../support/redis-server.js";
import { until } from "../support/until.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";

const REDIS_TASKS = fileURLToPath(new URL("../fixtures/redis-tasks.js", import.meta.url));

const TESTS = {
  fleet: "listWorkers() on the producer host shows each worker with its own host and pid",
  jobs: "jobs from the producer host run on both worker hosts; results and events come back",
  cancel:
    "cancel from the producer host aborts the job's signal on its worker host, and the cancelled event comes back",
} as const;

describeWithRedis("a Redis queue across hosts (network namespaces)", () => {
  const missing = netHostsMissing();
  if (missing) {
    for (const name of Object.values(TESTS)) it(name, { skip: missing }, () => {});
    return;
  }
  let net: NetHosts;
  let redis: HostRedis;
  let workers: WorkerProcess[] = [];
  let producer: Agent;
  const prefix = `hosts:${randomUUID()}:`;
  const workerHosts = ["worker-a", "worker-b"];

  before(async () => {
    net = createNetHosts(["redis-host", ...workerHosts, "producer"]);
    redis = await startHostRedis(net, net.host("redis-host"));
    workers = await Promise.all(
      workerHosts.map((name) =>
        startWorker({
          url: redis.url,
          prefix,
          threads: 1,
          modules: [REDIS_TASKS],
          wrap: (file, args) => net.command(net.host(name), file, args),
        }),
      ),
    );
    producer = await startAgent(net, net.host("producer"), redis.url, prefix, REDIS_TASKS);
    await producer.call("listen", ["enqueued", "started", "progress", "completed", "cancelled"]);
  });
  after(async () => {
    await producer?.stop();
    for (const w of workers) w.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await redis?.stop();
    net?.teardown();
  });

  it(TESTS.fleet, async () => {
    assert.equal(producer.hostname, "producer");
    const listed = await until("both workers in the fleet", async () => {
      const list =
        await producer.call<{ host: string; pid: number; threads: number }[]>("listWorkers");
      return list.length === 2 && list;
    });
    assert.deepEqual(
      listed.map((w) => [w.host, w.pid, w.threads]).sort(),
      workerHosts.map((h, i) => [h, workers[i]!.pid, 1]).sort(),
    );
  });

  it(TESTS.jobs, async () => {
    const seen = new Map<string, number>();
    // Both workers wait on the same queue; jobs go in until each host ran some.
    for (let round = 0; round < 50 && seen.size < 2; round++) {
      const ids = await Promise.all(
        Array.from({ length: 10 }, () =>
          producer.call<string>("enqueue", randomUUID(), "rq.host", []),
        ),
      );
      for (const id of ids) {
        const r = await producer.call<{ status: string; result: { host: string; pid: number } }>(
          "waitFor",
          id,
          { timeoutMs: 10_000 },
        );
        assert.equal(r.status, "completed");
        const done = await producer.waitForEvent(
          (x) => x.event === "completed" && x.e.jobId === id,
        );
        assert.deepEqual(done.e.result, r.result, "the completed event carries the result");
        const i = workerHosts.indexOf(r.result.host);
        assert.ok(i >= 0, `ran on a worker host, not ${r.result.host}`);
        assert.equal(r.result.pid, workers[i]!.pid);
        seen.set(r.result.host, (seen.get(r.result.host) ?? 0) + 1);
      }
    }
    assert.deepEqual([...seen.keys()].sort(), workerHosts, `jobs per host: ${[...seen]}`);
  });

  it(TESTS.cancel, async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidai-hosts-"));
    try {
      // The hosts share the file system, not the network: the job notes its abort here.
      const file = join(dir, "aborted.log");
      const id = await producer.call<string>("enqueue", randomUUID(), "rq.sleep", [60_000, file]);
      await producer.waitForEvent(
        (x) => x.event === "progress" && x.e.jobId === id && x.e.progress === "started",
      );
      assert.equal(await producer.call("cancel", id), true);
      const r = await producer.call<{ status: string; attempts: number }>("getResult", id);
      assert.equal(r.status, "cancelled");
      assert.equal(r.attempts, 1);
      await producer.waitForEvent((x) => x.event === "cancelled" && x.e.jobId === id);
      const notes = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { code: string; host: string; pid: number });
      assert.equal(notes.length, 1, "one abort");
      const note = notes[0]!;
      assert.equal(note.code, ErrorCode.CANCELLED, "the signal aborted with the cancel's reason");
      const i = workerHosts.indexOf(note.host);
      assert.ok(i >= 0, `aborted on a worker host, not ${note.host}`);
      assert.equal(note.pid, workers[i]!.pid);
      const started = producer.events.find((x) => x.event === "started" && x.e.jobId === id);
      assert.ok(started, "the started event came back too");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("test hosts (network namespaces)", () => {
  const missing = netHostsMissing() ?? false;
  const list = () => execFileSync(ipBin(), ["netns", "list"]).toString();

  it("reach each other, are removed by teardown, and a dead run's leftovers go", {
    skip: missing,
  }, async () => {
    // A namespace named after a process that has exited, as a killed run leaves it.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const stale = `rjh-${dead}-0-stale`;
    execFileSync(ipBin(), ["netns", "add", stale]);
    const net = createNetHosts(["a", "b"]);
    try {
      assert.ok(!list().includes(stale), "the dead run's namespace was deleted");
      const names = net.hosts.map((h) => h.ns);
      assert.ok(
        names.every((n) => n.startsWith(`rjh-${process.pid}-`)),
        "names carry the pid",
      );
      const net24 = net.subnet.replace(/0\/24$/, "");
      assert.ok(
        !execFileSync(ipBin(), ["-4", "addr"]).toString().includes(net24),
        "no address of the hosts in this process's own namespace",
      );
      // b reaches a's address through the bridge: a TCP connect from b to a server on a.
      const server = net.spawn(
        net.host("a"),
        process.execPath,
        [
          "-e",
          `require("node:net").createServer((s) => s.end("hi from " + require("node:os").hostname())).listen(7000, "${net.host("a").address}", () => console.log("listening"))`,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      try {
        await waitForOutput(server, /listening/, "the server on a");
        const client = net.command(net.host("b"), process.execPath, [
          "-e",
          `const s = require("node:net").connect(7000, "${net.host("a").address}"); let t = ""; s.on("data", (d) => (t += d)); s.on("end", () => console.log(t)); setTimeout(() => process.exit(3), 5000).unref();`,
        ]);
        const reply = execFileSync(client.file, client.args, { timeout: 10_000 }).toString();
        assert.equal(reply.trim(), "hi from a");
      } finally {
        server.kill("SIGKILL");
      }
    } finally {
      net.teardown();
      spawnSync(ipBin(), ["netns", "del", stale]); // if the test failed before it went
    }
    for (const h of net.hosts) assert.ok(!list().includes(h.ns), `${h.ns} was left behind`);
  });
});
