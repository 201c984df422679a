/**
 * Cancel storm (RELIABILITY.md) over Redis: a producer in this process
 * cancels jobs at random moments while they are pending, running
 * cooperatively or spinning without ever checking in a worker process; the
 * cancels cross by Redis. Scaled down for `npm test`; CHAOS_FULL=1 runs 500.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RedisQueue } from "rapidai/background";
import "../fixtures/cancel-storm-tasks.js";
import { runCancelStorm, spunThreads, stormSummary } from "../support/cancel-storm.js";
import { assertPoolRefilled, assertStorm } from "../support/cancel-storm-checks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";
import { otherLines, warningLines } from "../support/warning-lines.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { FULL } from "./checker.js";

const JOBS = FULL ? 500 : 60;
const THREADS = 2;
const GRACE_MS = 200;
const STORM_WORKER = fileURLToPath(new URL("../support/storm-worker.js", import.meta.url));

describeWithRedis("chaos: cancel storm over Redis", () => {
  let server: RedisHandle;
  let worker: WorkerProcess | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    worker?.kill("SIGKILL");
    await server?.stop();
  });

  it(`ends each of ${JOBS} randomly cancelled jobs in a worker process cancelled within the grace period + 1 s, replaces spinning threads, and leaves healthy jobs alone`, async () => {
    const prefix = `storm:${randomUUID()}:`;
    worker = await startWorker({
      url: server.url,
      prefix,
      script: { path: STORM_WORKER, args: [server.url, prefix, String(THREADS), String(GRACE_MS)] },
    });
    const producer = new RedisQueue({ url: server.url, prefix, process: false });
    try {
      const storm = await runCancelStorm(producer, {
        jobs: JOBS,
        graceMs: GRACE_MS,
        horizonMs: FULL ? 8000 : 3000,
      });
      console.log(stormSummary("cancel storm (redis)", storm));
      assertStorm(storm, GRACE_MS);
      const spun = spunThreads(storm);
      await assertPoolRefilled(producer, THREADS, spun);
      const healthy = storm.jobs.filter((j) => j.kind === "healthy").length;
      assert.deepEqual(await producer.countJobs(), {
        pending: 0,
        running: 0,
        completed: healthy + THREADS,
        failed: 0,
        cancelled: JOBS - healthy,
      });
      assert.deepEqual(warningLines(worker.output()), [], "the worker logged no warning");
      assert.deepEqual(
        otherLines(worker.output()).filter((l) => !l.startsWith("rapidai-jobs worker ready")),
        [],
        "nor printed anything else",
      );
    } finally {
      await producer.close();
    }
  });
});
