/**
 * Claim race: many claimers in several processes, each with its own
 * connection, claim from one queue at once. No job may be claimed twice
 * within a lease (every claim is logged with its process and lease token,
 * and the leases of one job must not overlap), and every job ends exactly
 * once.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis } from "../support/redis-server.js";
import { startWorker } from "../support/worker-process.js";
import { type AttemptRecord, FULL } from "./checker.js";
import { chaosScene } from "./scene.js";

const JOBS = FULL ? 10_000 : 2000;
const CLAIMERS = FULL ? 50 : 10;
const PROCESSES = FULL ? 5 : 3;
// Far longer than a job is held: no lease may expire, so any second claim is a double claim.
const LEASE_MS = 30_000;
const CLAIMER_SCRIPT = fileURLToPath(
  new URL("../fixtures/claim-race-claimers.js", import.meta.url),
);

interface ClaimRecord extends AttemptRecord {
  claimer: string;
  token: string;
  lease: number;
  applied?: number;
}

describeWithRedis("chaos: claim race", () => {
  const scene = chaosScene();
  const { log, workers } = scene;

  it(`claims no job twice within a lease (${JOBS} jobs, ${CLAIMERS} claimers in ${PROCESSES} processes)`, async () => {
    const prefix = `race:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    log.watch(producer);
    try {
      // Claimers first, polling an empty queue, so that every batch of the
      // enqueue is raced for as soon as it lands.
      for (let i = 0; i < PROCESSES; i++) {
        const n = Math.floor(CLAIMERS / PROCESSES) + (i < CLAIMERS % PROCESSES ? 1 : 0);
        workers.add(
          await startWorker({
            url: scene.server.url,
            prefix,
            script: {
              path: CLAIMER_SCRIPT,
              args: [scene.server.url, prefix, String(n), String(LEASE_MS)],
            },
            env: { RAPIDAI_ATTEMPT_LOG: log.file },
          }),
        );
      }
      await producer.countJobs();
      const jobs = Array.from({ length: JOBS }, (_, i) => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [i],
      }));
      for (const id of await producer.enqueueMany(jobs)) log.enqueued.add(id);
      const verdict = await log.verdict(producer, FULL ? 120_000 : 30_000);

      // Stop the claimers, so that the log is complete.
      for (const p of workers) p.kill("SIGTERM");
      const codes = await Promise.all([...workers].map((p) => p.exited));
      const records = log.attempts() as ClaimRecord[];
      const claims = records.filter((r) => r.phase === "start");
      const ends = records.filter((r) => r.phase === "end");
      const byJob = new Map<string, ClaimRecord[]>();
      for (const c of claims) byJob.set(c.id, [...(byJob.get(c.id) ?? []), c]);
      // A lease lasts from its claim until its applied end, or until it expires.
      const appliedAt = new Map<string, number>();
      for (const e of ends) if (e.applied === 1) appliedAt.set(`${e.id} ${e.token}`, e.at);
      const leaseEnd = (c: ClaimRecord) =>
        Math.min(appliedAt.get(`${c.id} ${c.token}`) ?? Number.POSITIVE_INFINITY, c.at + c.lease);
      const overlaps: string[] = [];
      for (const [id, cs] of byJob) {
        if (cs.length < 2) continue;
        cs.sort((a, b) => a.at - b.at);
        for (let i = 1; i < cs.length; i++) {
          const prev = cs[i - 1]!;
          const next = cs[i]!;
          if (next.at < leaseEnd(prev))
            overlaps.push(
              `${id}: ${prev.token} (pid ${prev.pid}) and ${next.token} (pid ${next.pid})`,
            );
        }
      }
      const applied = new Map<string, number>();
      for (const e of ends) if (e.applied === 1) applied.set(e.id, (applied.get(e.id) ?? 0) + 1);
      const pids = new Set(claims.map((c) => c.pid));
      const claimerIds = new Set(claims.map((c) => c.claimer));
      const leases = new Set(claims.map((c) => `${c.id} ${c.token}`));
      console.log(
        `${log.summary("claim race", verdict)}, ${claims.length} claims by ${claimerIds.size} claimers in ${pids.size} processes, ${overlaps.length} overlapping leases`,
      );
      assert.deepEqual(verdict.lost, [], "lost jobs");
      assert.deepEqual(verdict.unexpected, [], "unexpected jobs");
      assert.deepEqual(verdict.duplicated, [], "jobs finished twice");
      assert.deepEqual(overlaps, [], "jobs claimed twice within a lease");
      assert.equal(leases.size, claims.length, "every claim of a job has its own lease token");
      assert.deepEqual(verdict.reruns, [], "no job was claimed again (no lease expired)");
      for (const id of log.enqueued) assert.equal(applied.get(id), 1, `job ${id} ended once`);
      assert.equal(claims.length, JOBS, "one claim per job");
      assert.deepEqual(codes, Array(PROCESSES).fill(0), "every claimer process stopped cleanly");
      // The race was real: the jobs were spread over the claimers and processes.
      assert.equal(pids.size, PROCESSES);
      assert.ok(claimerIds.size > CLAIMERS / 2, `${claimerIds.size} claimers got jobs`);
    } finally {
      await producer.close();
    }
  });
});
