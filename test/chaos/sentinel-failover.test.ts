/**
 * The Sentinel failover timeline at full scale (`npm run chaos`, 2,000
 * jobs, 3 worker processes): the master SIGKILLed mid-run, the old master
 * restarted with its old configuration. `npm test` runs the same timeline
 * scaled down in test/redis/sentinel-failover.test.ts, so here it is
 * skipped unless CHAOS_FULL=1.
 */
import { type SentinelHandle, startSentinels } from "../support/redis-sentinel.js";
import { suiteWithRedis } from "../support/redis-server.js";
import type { WorkerProcess } from "../support/worker-process.js";
import { ChaosLog, FULL } from "./checker.js";
import { sentinelTimeline } from "./sentinel-timeline.js";

suiteWithRedis("chaos: the master fails over behind Sentinel", ({ before, after, test }) => {
  let deployment: SentinelHandle | undefined;
  const log = new ChaosLog();
  const started = new Set<WorkerProcess>();
  before(async () => {
    if (FULL) deployment = await startSentinels();
  });
  after(async () => {
    for (const w of started) w.kill("SIGKILL");
    await Promise.all([...started].map((w) => w.exited));
    await deployment?.stop();
    log.dispose();
  });

  test("2,000 jobs: SIGKILL of the master, none lost, nothing written to the restarted old master", {
    skip: FULL ? false : "full scale only (CHAOS_FULL=1); test/redis runs it scaled down",
  }, async () => {
    await sentinelTimeline(deployment!, log, { jobs: 2000, workers: 3, threads: 2, started });
  });
});
