/**
 * Stall recovery: the only worker dies with jobs running; another worker
 * runs them again within the lease plus one check interval plus a second.
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

const LEASE_MS = FULL ? 2000 : 1000;
const CHECK_MS = LEASE_MS / 2; // the default check interval: min(5 s, lease / 2)
const RUNNING = 4;

describeWithRedis("chaos: stall recovery", () => {
  const scene = chaosScene({ appendonly: true });
  const { log, workers } = scene;

  it(`re-runs the ${RUNNING} jobs of a killed worker within lease + check interval + 1 s`, async () => {
    const prefix = `stall:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    log.watch(producer);
    const env = { RAPIDAI_ATTEMPT_LOG: log.file };
    try {
      const first = await startWorker({
        url: scene.server.url,
        prefix,
        threads: RUNNING,
        leaseMs: LEASE_MS,
        env,
      });
      workers.add(first);
      const jobs = Array.from({ length: RUNNING }, () => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [3000],
      }));
      for (const id of await producer.enqueueMany(jobs)) log.enqueued.add(id);
      const started = async (n: number, attempt: number) => {
        for (let i = 0; i < 500; i++) {
          const a = log.attempts().filter((x) => x.phase === "start" && x.attempt === attempt);
          if (a.length >= n) return a;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`fewer than ${n} jobs started attempt ${attempt}`);
      };
      await started(RUNNING, 1);
      // The rescuer is up before the kill, so its start-up time is not measured.
      const second = await startWorker({
        url: scene.server.url,
        prefix,
        threads: RUNNING,
        leaseMs: LEASE_MS,
        env,
      });
      workers.add(second);
      const killedAt = Date.now();
      first.kill("SIGKILL");
      const again = await started(RUNNING, 2);
      // When the rescuer claimed each job (the job's startedAt, on Redis's clock, this machine's too).
      const claimedAt = await Promise.all(
        jobs.map(
          async (j) =>
            (await producer.getResult(j.jobId))?.startedAt?.getTime() ?? Number.POSITIVE_INFINITY,
        ),
      );
      const slowest = Math.max(...claimedAt) - killedAt;
      const bound = LEASE_MS + CHECK_MS + 1000;
      console.log(
        `chaos stall recovery: ${RUNNING} jobs claimed again ${slowest} ms after the kill (bound ${bound} ms)`,
      );
      assert.ok(slowest <= bound, `re-ran within ${bound} ms (took ${slowest} ms)`);
      for (const a of again) assert.equal(a.pid, second.pid);
      const verdict = await log.verdict(producer, 30_000);
      console.log(log.summary("stall recovery", verdict));
      assert.deepEqual([verdict.lost, verdict.duplicated, verdict.unexpected], [[], [], []]);
    } finally {
      await producer.close();
    }
  });
});
