/**
 * No false stalls: a worker whose event loop is blocked for 0.4 of a lease,
 * again and again, keeps its leases: its long jobs run exactly once.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { RedisQueue, type RetryingEvent } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis } from "../support/redis-server.js";
import { FENCING_CODES, warningLines } from "../support/warning-lines.js";
import { startWorker } from "../support/worker-process.js";
import { FULL } from "./checker.js";
import { chaosScene } from "./scene.js";

const BUSY_WORKER = fileURLToPath(new URL("../fixtures/logging-worker.js", import.meta.url));
const LEASE_MS = 1000;
const JOB_MS = FULL ? 4000 : 2500;
const JOBS = FULL ? 8 : 4;

describeWithRedis("chaos: no false stalls", () => {
  const scene = chaosScene();
  const { log, workers } = scene;

  it(`keeps the leases of ${JOBS} jobs of ${JOB_MS} ms while the event loop is blocked 400 ms at a time (lease ${LEASE_MS} ms)`, async () => {
    const prefix = `busy:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    log.watch(producer);
    const retrying: RetryingEvent[] = [];
    producer.on("retrying", (e) => retrying.push(e));
    // A second, healthy worker checks for expired leases all the while and would take the jobs over.
    const env = { RAPIDAI_ATTEMPT_LOG: log.file };
    try {
      const busy = await startWorker({
        url: scene.server.url,
        prefix,
        env,
        script: {
          path: BUSY_WORKER,
          args: [scene.server.url, prefix, String(LEASE_MS), String(JOBS), "400", "500"],
        },
      });
      workers.add(busy);
      const jobs = Array.from({ length: JOBS }, () => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [JOB_MS],
      }));
      for (const id of await producer.enqueueMany(jobs)) log.enqueued.add(id);
      for (
        let i = 0;
        i < 500 && log.attempts().filter((a) => a.phase === "start").length < JOBS;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const watcher = await startWorker({
        url: scene.server.url,
        prefix,
        threads: 1,
        leaseMs: LEASE_MS,
        env,
      });
      workers.add(watcher);
      const verdict = await log.verdict(producer, 30_000);
      console.log(`${log.summary("no false stalls", verdict)}, ${retrying.length} retries`);
      const fenced = warningLines(busy.output()).filter((w) => FENCING_CODES.includes(w.code!));
      assert.deepEqual(fenced, [], "the busy worker lost no lease and had no answer refused");
      assert.deepEqual([verdict.lost, verdict.duplicated, verdict.unexpected], [[], [], []]);
      assert.deepEqual(verdict.reruns, [], "no job ran twice");
      assert.deepEqual(retrying, [], "no lease expired");
      for (const r of verdict.results.values()) assert.equal(r?.attempts, 1);
    } finally {
      await producer.close();
    }
  });
});
