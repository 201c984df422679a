/**
 * What a cancel storm must show, on either backend: each cancelled job ends
 * `cancelled` within the grace period + 1 s of its cancel call, jobs cancelled
 * while delayed never ran, healthy jobs complete with their results, every
 * thread that was spinning is gone, and the pool is back to its size.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { JobQueue } from "rapidai/background";
import { type StormOutcome, spunThreads } from "./cancel-storm.js";

/** Asserts every promise of the storm about its jobs. */
export function assertStorm(s: StormOutcome, graceMs: number): void {
  const seed = `(replay with STORM_SEED=${s.seed})`;
  const startedIds = new Set(s.starts.map((x) => x.id));
  s.jobs.forEach((job, index) => {
    const r = job.result;
    assert.ok(r, `job ${job.id} (${job.kind}) has a result ${seed}`);
    if (job.kind === "healthy") {
      assert.equal(job.cancelCalledAt, undefined);
      assert.equal(r.status, "completed", `healthy job ${index}: ${r.error} ${seed}`);
      assert.equal((r.result as { n: number }).n, index, `healthy job ${index} kept its result`);
      assert.equal(r.attempts, 1, `healthy job ${index} ran once ${seed}`);
      return;
    }
    assert.equal(job.cancelAnswer, true, `cancel(${job.kind} job ${index}) answered true ${seed}`);
    assert.equal(
      job.statusAfterCancel,
      "cancelled",
      `${job.kind} job ${index} read as cancelled once cancel() resolved ${seed}`,
    );
    assert.equal(r.status, "cancelled", `${job.kind} job ${index} ended cancelled ${seed}`);
    const took = job.cancelResolvedAt! - job.cancelCalledAt!;
    assert.ok(
      took <= graceMs + 1000,
      `${job.kind} job ${index} (${job.task}) took ${Math.round(took)} ms from cancel to cancelled, ` +
        `over the grace period ${graceMs} ms + 1 s ${seed}`,
    );
    if (job.kind === "pending") {
      assert.equal(r.attempts, 0, `delayed job ${index} never ran ${seed}`);
      assert.ok(!startedIds.has(job.id), `delayed job ${index} never started ${seed}`);
    }
    if (job.kind === "cooperative" || job.kind === "checkLoop" || job.kind === "spin") {
      assert.equal(r.attempts, 1, `${job.kind} job ${index} ran once ${seed}`);
    }
  });

  // A thread that spun through its cancel was terminated: no body starts on
  // it after that cancel resolved.
  for (const job of s.jobs) {
    if (!spunThreads({ ...s, jobs: [job] }).length) continue;
    const later = s.starts.filter((x) => x.thread === job.thread && x.at > job.cancelResolvedAt!);
    assert.deepEqual(
      later.map((x) => x.id),
      [],
      `thread ${job.thread}, which spun through the cancel of ${job.id}, still ran jobs ${seed}`,
    );
  }
}

/**
 * Runs `threads` jobs that each hold a thread for a while, and asserts they
 * all ran at once on distinct threads, none of them one that spun: the pool
 * is back to its size with fresh threads.
 */
export async function assertPoolRefilled(
  queue: JobQueue,
  threads: number,
  spun: readonly number[],
): Promise<number[]> {
  const started = new Map<string, number>();
  const allStarted = new Promise<void>((resolve) => {
    const listener = (e: { jobId: string; progress: unknown }) => {
      const p = e.progress as { started?: number } | undefined;
      if (typeof p?.started !== "number") return;
      started.set(e.jobId, performance.now());
      if (started.size === threads) {
        queue.off("progress", listener as never);
        resolve();
      }
    };
    queue.on("progress", listener as never);
  });
  const ids = await queue.enqueueMany(
    Array.from({ length: threads }, () => ({
      jobId: randomUUID(),
      task: "storm.hold",
      args: [1500],
    })),
  );
  await allStarted;
  // Each holds its thread 1.5 s: had the pool fewer threads, one would only
  // start after another finished.
  for (const id of ids) {
    assert.equal((await queue.getResult(id))?.status, "running", "every hold job runs at once");
  }
  const results = await Promise.all(ids.map((id) => queue.waitFor(id, { timeoutMs: 20_000 })));
  const used = results.map((r) => r.result as number);
  assert.equal(new Set(used).size, threads, `distinct threads: ${used}`);
  for (const t of used) assert.ok(!spun.includes(t), `thread ${t} spun and should be gone`);
  return used;
}
