/**
 * Redis restarts (killed, AOF on) while jobs are in flight: no acknowledged
 * job is lost, and work resumes within seconds after each restart.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis } from "../support/redis-server.js";
import { startWorker } from "../support/worker-process.js";
import { FULL } from "./checker.js";
import { chaosScene } from "./scene.js";

const JOBS = FULL ? 5000 : 400;
const RESTARTS = FULL ? 3 : 2;
const WORKERS = FULL ? 3 : 2;

describeWithRedis("chaos: Redis restarts with AOF", () => {
  const scene = chaosScene({ appendonly: true });
  const { log, workers } = scene;

  it(`loses no job across ${RESTARTS} restarts of Redis with ${JOBS} jobs in flight`, async () => {
    const prefix = `restart:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    log.watch(producer);
    try {
      for (let i = 0; i < WORKERS; i++) {
        workers.add(
          await startWorker({
            url: scene.server.url,
            prefix,
            threads: 2,
            leaseMs: 2000,
            env: { RAPIDAI_ATTEMPT_LOG: log.file },
          }),
        );
      }
      const jobs = Array.from({ length: JOBS }, () => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [5 + Math.floor(Math.random() * 25)],
      }));
      for (const id of await producer.enqueueMany(jobs)) log.enqueued.add(id);
      const completed = async () => (await producer.countJobs().catch(() => undefined))?.completed;
      const resumeTimes: number[] = [];
      for (let r = 0; r < RESTARTS; r++) {
        // Let some work happen, then kill Redis (no graceful shutdown) and bring it back.
        const target = Math.floor((JOBS * (r + 1)) / (RESTARTS + 2));
        for (let i = 0; i < 600 && ((await completed()) ?? 0) < target; i++)
          await new Promise((res) => setTimeout(res, 50));
        await scene.server.restart({ hard: true });
        const at = Date.now();
        const before = (await completed()) ?? 0;
        for (let i = 0; i < 400 && ((await completed()) ?? 0) <= before; i++)
          await new Promise((res) => setTimeout(res, 25));
        resumeTimes.push(Date.now() - at);
      }
      const verdict = await log.verdict(producer, FULL ? 300_000 : 90_000);
      console.log(
        `${log.summary("Redis restart", verdict)}, work resumed after ${resumeTimes.join(", ")} ms`,
      );
      assert.deepEqual(verdict.lost, [], "lost jobs");
      assert.deepEqual(verdict.unexpected, [], "unexpected jobs");
      assert.deepEqual(verdict.duplicated, [], "jobs finished twice");
      for (const t of resumeTimes) assert.ok(t < 10_000, `work resumed within seconds (${t} ms)`);
    } finally {
      await producer.close();
    }
  });
});
