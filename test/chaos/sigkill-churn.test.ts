/**
 * SIGKILL churn: worker processes are killed one after another and replaced
 * while jobs run. Nothing may be lost or finish twice, and a job runs again
 * only when an earlier attempt was on a killed process.
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

const JOBS = FULL ? 1000 : 120;
const MIN_MS = FULL ? 50 : 20;
const MAX_MS = FULL ? 500 : 150;
const KILL_EVERY_MS = FULL ? 2000 : 1000;
const WORKERS = 3;

describeWithRedis("chaos: SIGKILL churn of worker processes", () => {
  const scene = chaosScene({ appendonly: true });
  const { log, workers } = scene;

  it(`loses nothing and finishes nothing twice (${JOBS} jobs, ${WORKERS} workers, one killed every ${KILL_EVERY_MS} ms)`, async () => {
    const prefix = `churn:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    log.watch(producer);
    const spawn = async () => {
      const w = await startWorker({
        url: scene.server.url,
        prefix,
        threads: 1,
        leaseMs: 1000,
        env: { RAPIDAI_ATTEMPT_LOG: log.file },
      });
      workers.add(w);
      return w;
    };
    try {
      await Promise.all(Array.from({ length: WORKERS }, spawn));
      const jobs = Array.from({ length: JOBS }, () => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [MIN_MS + Math.floor(Math.random() * (MAX_MS - MIN_MS))],
      }));
      for (const id of await producer.enqueueMany(jobs)) log.enqueued.add(id);

      const killed = new Set<number>();
      let churning = true;
      const churn = (async () => {
        while (churning) {
          await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
          if (!churning) break;
          const victim = [...workers][Math.floor(Math.random() * workers.size)]!;
          workers.delete(victim);
          killed.add(victim.pid);
          victim.kill("SIGKILL");
          await victim.exited;
          await spawn();
        }
      })();
      const verdict = await log.verdict(producer, FULL ? 180_000 : 60_000);
      churning = false;
      await churn;
      console.log(`${log.summary("SIGKILL churn", verdict)}, ${killed.size} workers killed`);
      assert.deepEqual(verdict.lost, [], "lost jobs");
      assert.deepEqual(verdict.unexpected, [], "unexpected jobs");
      assert.deepEqual(verdict.duplicated, [], "jobs finished twice");
      // A job ran again only if an earlier attempt was on a killed process:
      // it either started there, or was claimed there and never started
      // (a live worker starts every job it claims).
      const attempts = log.attempts();
      for (const id of verdict.reruns) {
        const final = verdict.results.get(id)!.attempts;
        for (let n = 1; n < final; n++) {
          const started = attempts.filter(
            (a) => a.id === id && a.attempt === n && a.phase === "start",
          );
          assert.ok(
            started.length === 0 || started.some((a) => killed.has(a.pid)),
            `job ${id} attempt ${n} ran on a live worker, yet the job ran again: ${JSON.stringify(started)}`,
          );
        }
      }
    } finally {
      await producer.close();
    }
  });
});
