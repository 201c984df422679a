/**
 * The master that owns a queue's slot fails over while jobs run: first by
 * hand (`CLUSTER FAILOVER` on its replica: no write is lost), then by a
 * SIGKILL of the new master (the cluster promotes its replica after the
 * node timeout). Work resumes on its own, no acknowledged job is lost, and
 * jobs finish twice only for the completions the killed master took but
 * had not passed to its replica yet: bounded by the jobs in flight.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import {
  NODE_TIMEOUT_MS,
  type RedisClusterHandle,
  startCluster,
} from "../support/redis-cluster.js";
import { describeWithRedis } from "../support/redis-server.js";
import { until } from "../support/until.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { ChaosLog, FULL } from "./checker.js";

const CLUSTER_QUEUE = fileURLToPath(new URL("../fixtures/cluster-queue.js", import.meta.url));
const JOBS = FULL ? 2000 : 300;
const WORKERS = FULL ? 3 : 2;
const THREADS = 2;

describeWithRedis("chaos: the queue's master fails over in a Redis Cluster", () => {
  let cluster: RedisClusterHandle;
  const log = new ChaosLog();
  const workers: WorkerProcess[] = [];
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await cluster?.stop();
    log.dispose();
  });

  it(`resumes on its own after CLUSTER FAILOVER and a SIGKILL of the master, ${JOBS} jobs, none lost`, async () => {
    const prefix = `{failover-${randomUUID().slice(0, 8)}}:`;
    const env = {
      RAPIDAI_TEST_CLUSTER: JSON.stringify(cluster.seeds),
      RAPIDAI_TEST_PREFIX: prefix,
      RAPIDAI_ATTEMPT_LOG: log.file,
    };
    for (let i = 0; i < WORKERS; i++) {
      workers.push(
        await startWorker({
          url: "",
          prefix,
          bare: true,
          threads: THREADS,
          leaseMs: 2_000,
          modules: [CLUSTER_QUEUE],
          env,
        }),
      );
    }
    const producer = new RedisQueue({
      cluster: cluster.seeds,
      prefix,
      process: false,
      logger: { warn() {} },
    });
    log.watch(producer);
    try {
      const jobs = Array.from({ length: JOBS }, () => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [10 + Math.floor(Math.random() * 30)],
      }));
      for (const id of await producer.enqueueMany(jobs)) log.enqueued.add(id);
      const counts = () => producer.countJobs().catch(() => undefined);
      const completedAtLeast = async (n: number, timeoutMs: number) => {
        const end = Date.now() + timeoutMs;
        for (;;) {
          if (((await counts())?.completed ?? -1) >= n) return;
          if (Date.now() > end)
            throw new Error(`fewer than ${n} jobs completed in ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const resumeAfter = async (fault: () => Promise<void>) => {
        const inFlight = (await counts())?.running ?? 0;
        await fault();
        const at = Date.now();
        // Paced: a count can fail at once while a master is down (see sentinel-timeline.ts).
        const before = await until(
          "a count after the fault",
          async () => (await counts())?.completed,
          60_000,
          25,
        );
        await completedAtLeast(before + 5, 60_000);
        return { resumedMs: Date.now() - at, inFlight };
      };

      await completedAtLeast(Math.floor(JOBS / 4), 60_000);
      const first = await cluster.masterOf(prefix);
      const replica = await cluster.replicaOf(first);
      const manual = await resumeAfter(() => cluster.failover(replica));

      await completedAtLeast(Math.floor(JOBS / 2), 60_000);
      const current = await cluster.masterOf(prefix);
      assert.equal(current, replica, "the replica took the slot over");
      const killedAt = Date.now();
      const killed = await resumeAfter(() => cluster.kill(current));
      const promoted = await cluster.masterOf(prefix);
      assert.notEqual(promoted, current, "the cluster promoted the killed master's replica");

      const verdict = await log.verdict(producer, FULL ? 300_000 : 90_000);
      const stuck = verdict.lost.filter((id) =>
        ["pending", "running"].includes(verdict.results.get(id)?.status ?? ""),
      );
      console.log(
        `${log.summary("cluster failover", verdict)}, stuck ${stuck.length}; ` +
          `resumed ${manual.resumedMs} ms after CLUSTER FAILOVER (${manual.inFlight} in flight), ` +
          `${killed.resumedMs} ms after SIGKILL of the master (${killed.inFlight} in flight, node timeout ${NODE_TIMEOUT_MS} ms), ` +
          `failover done ${Date.now() - killedAt} ms after the kill`,
      );
      assert.deepEqual(verdict.lost, [], "acknowledged jobs lost");
      assert.deepEqual(verdict.unexpected, [], "unexpected jobs");
      const bound = manual.inFlight + killed.inFlight + WORKERS * THREADS;
      assert.ok(
        verdict.duplicated.length <= bound,
        `jobs finished twice (${verdict.duplicated.length}) bounded by the jobs in flight (${bound})`,
      );
      assert.ok(
        manual.resumedMs < 10_000,
        `resumed after CLUSTER FAILOVER (${manual.resumedMs} ms)`,
      );
      assert.ok(
        killed.resumedMs < NODE_TIMEOUT_MS * 2 + 10_000,
        `resumed after the SIGKILL within the failover time plus a few seconds (${killed.resumedMs} ms)`,
      );
    } finally {
      await producer.close();
    }
  });
});
