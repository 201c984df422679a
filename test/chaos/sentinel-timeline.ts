/**
 * The Sentinel failover timeline, against real Sentinels, shared by the
 * scaled-down test (test/redis) and the full-scale chaos run:
 *
 * 1. Worker processes and a producer connect through three Sentinels; the
 *    first jobs are enqueued with `durability: "replicated"`, so the
 *    replica has every acknowledged job before the master dies.
 * 2. The master is SIGKILLed mid-run. Sentinel promotes the replica; the
 *    workers find it on their own and work resumes.
 * 3. The old master is started again on its port with its old
 *    configuration: it comes back believing it is the master, with its old
 *    data, until Sentinel demotes it. During that window more jobs are
 *    enqueued and run, and MONITOR plus INFO commandstats on the old
 *    master must show that none of our processes even connected to it.
 * 4. Every acknowledged job completed; those that finished twice are
 *    bounded by the jobs in flight at the kill; the new master's counts add up.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { DOWN_AFTER_MS, MASTER_NAME, type SentinelHandle } from "../support/redis-sentinel.js";
import { watchStaleWindow } from "../support/stale-master-watch.js";
import { until } from "../support/until.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import type { ChaosLog } from "./checker.js";

const SENTINEL_QUEUE = fileURLToPath(new URL("../fixtures/sentinel-queue.js", import.meta.url));

export interface TimelineOptions {
  jobs: number;
  workers: number;
  threads: number;
  /** Where the test keeps the processes it starts (killed after the file). */
  started: Set<WorkerProcess>;
}

export async function sentinelTimeline(
  deployment: SentinelHandle,
  log: ChaosLog,
  o: TimelineOptions,
): Promise<string> {
  const prefix = `sentinel-${randomUUID().slice(0, 8)}:`;
  const env = {
    RAPIDAI_TEST_SENTINELS: JSON.stringify(deployment.addresses),
    RAPIDAI_TEST_MASTER: MASTER_NAME,
    RAPIDAI_TEST_PREFIX: prefix,
    RAPIDAI_ATTEMPT_LOG: log.file,
  };
  for (let i = 0; i < o.workers; i++) {
    const w = await startWorker({
      url: "",
      prefix,
      bare: true,
      threads: o.threads,
      leaseMs: 2_000,
      modules: [SENTINEL_QUEUE],
      env,
    });
    o.started.add(w);
  }
  const open = (durability: "master" | "replicated") =>
    new RedisQueue({
      sentinels: deployment.addresses,
      name: MASTER_NAME,
      prefix,
      process: false,
      durability,
      logger: { warn() {} },
    });
  const producer = open("replicated");
  const windowProducer = open("master");
  log.watch(producer);
  try {
    const batch = (n: number) =>
      Array.from({ length: n }, () => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [10 + Math.floor(Math.random() * 30)],
      }));
    const before = Math.ceil((o.jobs * 2) / 3);
    for (const id of await producer.enqueueMany(batch(before))) log.enqueued.add(id);

    const counts = () => producer.countJobs().catch(() => undefined);
    const completedAtLeast = async (n: number, timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        if (((await counts())?.completed ?? -1) >= n) return;
        if (Date.now() > end) throw new Error(`fewer than ${n} jobs completed in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    // 2. SIGKILL the master mid-run.
    await completedAtLeast(Math.floor(before / 4), 60_000);
    const [oldMaster, replica] = deployment.nodes;
    assert.equal(await deployment.masterPort(), oldMaster.port, "the first node is master");
    const inFlight = (await counts())?.running ?? 0;
    await deployment.kill(oldMaster.port);
    const killedAt = Date.now();
    // Paced: while the master is down a count can fail at once, and a loop
    // of immediate failures would never give the client a turn to notice.
    const resumedFrom = await until(
      "a count after the kill",
      async () => (await counts())?.completed,
      60_000,
      25,
    );
    await completedAtLeast(resumedFrom + 5, 60_000);
    const resumedMs = Date.now() - killedAt;
    await deployment.waitForMaster(replica.port);
    const failoverMs = Date.now() - killedAt;

    // 3. The old master comes back as a master, until Sentinel demotes it.
    await deployment.restartWithOldConfig(oldMaster.port);
    const watching = watchStaleWindow(oldMaster.port);
    const staleAtEnqueue = (await deployment.role(oldMaster.port)) === "master";
    for (const id of await windowProducer.enqueueMany(batch(o.jobs - before))) {
      log.enqueued.add(id);
    }
    const stillStale = (await deployment.role(oldMaster.port)) === "master";
    const stale = await watching;
    await deployment.waitForLinkedReplica(oldMaster.port);
    assert.equal(await deployment.masterPort(), replica.port, "the promoted replica stays master");

    // 4. The verdict.
    const verdict = await log.verdict(producer, 120_000);
    const final = await producer.countJobs();
    const stuck = verdict.lost.filter((id) =>
      ["pending", "running"].includes(verdict.results.get(id)?.status ?? ""),
    );
    const summary =
      `${log.summary("sentinel failover", verdict)}, stuck ${stuck.length}; ` +
      `resumed ${resumedMs} ms after SIGKILL of the master (${inFlight} in flight, ` +
      `down-after ${DOWN_AFTER_MS} ms), every Sentinel named the new master after ${failoverMs} ms; ` +
      `old master stale for ${stale.windowMs} ms (${stale.masterPolls} polls saw it as master, ` +
      `${o.jobs - before} jobs enqueued ${staleAtEnqueue && stillStale ? "inside" : "around"} the window), ` +
      `commands from our processes on it: ${stale.foreign.length}`;
    console.log(summary);
    assert.ok(staleAtEnqueue, "the old master came back believing it is the master");
    assert.ok(stale.masterPolls > 0, "the stale window was observed");
    assert.deepEqual(stale.foreign, [], "commands sent to the stale old master");
    assert.deepEqual(stale.executed, {}, "queue commands executed on the stale old master");
    assert.deepEqual(verdict.lost, [], "acknowledged jobs lost");
    assert.deepEqual(verdict.unexpected, [], "unexpected jobs");
    const bound = inFlight + o.workers * o.threads;
    assert.ok(
      verdict.duplicated.length <= bound,
      `jobs finished twice (${verdict.duplicated.length}) bounded by the jobs in flight (${bound})`,
    );
    assert.ok(
      verdict.reruns.length <= bound,
      `jobs run again (${verdict.reruns.length}) bounded by the jobs in flight (${bound})`,
    );
    assert.equal(final.completed, o.jobs, "the new master counts every job completed");
    assert.equal(final.pending + final.running + final.failed, 0, "nothing left on the new master");
    return summary;
  } finally {
    await Promise.all([producer.close(), windowProducer.close()]);
  }
}
