/**
 * Against real Sentinels (scaled down; the 2,000-job run is
 * test/chaos/sentinel-failover.test.ts under CHAOS_FULL=1): the master is
 * SIGKILLed mid-run, the workers follow the promoted replica on their own,
 * no acknowledged job is lost, and the old master, restarted with its old
 * configuration so that it believes it is still the master, never gets a
 * command from the queue's processes before Sentinel demotes it.
 */
import { ChaosLog } from "../chaos/checker.js";
import { sentinelTimeline } from "../chaos/sentinel-timeline.js";
import { type SentinelHandle, startSentinels } from "../support/redis-sentinel.js";
import { suiteWithRedis } from "../support/redis-server.js";
import type { WorkerProcess } from "../support/worker-process.js";

suiteWithRedis("Sentinel: failover and a stale old master", ({ before, after, test }) => {
  let deployment: SentinelHandle | undefined;
  const log = new ChaosLog();
  const started = new Set<WorkerProcess>();
  before(async () => {
    deployment = await startSentinels();
  });
  after(async () => {
    for (const w of started) w.kill("SIGKILL");
    await Promise.all([...started].map((w) => w.exited));
    await deployment?.stop();
    log.dispose();
  });

  test("300 jobs: SIGKILL of the master, none lost, nothing written to the restarted old master", async () => {
    await sentinelTimeline(deployment!, log, { jobs: 300, workers: 2, threads: 2, started });
  });
});
