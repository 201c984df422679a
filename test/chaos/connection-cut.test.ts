/**
 * Connection cut: a TCP proxy between one worker process and Redis stops
 * all traffic for a while (connections hang, as in a network partition)
 * while another worker keeps its direct connection. Nothing may hang or be
 * lost, the cut-off worker must resume work after the traffic is restored,
 * and a job may run again only if its earlier attempt was on the cut-off
 * worker around a cut (its lease could expire only then).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis } from "../support/redis-server.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { startWorker } from "../support/worker-process.js";
import { FULL } from "./checker.js";
import { chaosScene } from "./scene.js";

// `hold`: connections stay open and hang; `drop`: they are closed, and the
// worker's reconnections hang until the traffic is restored.
const CUTS: { ms: number; mode: "hold" | "drop" }[] = FULL
  ? [
      { ms: 10_000, mode: "hold" },
      { ms: 60_000, mode: "hold" },
    ]
  : [
      { ms: 3000, mode: "hold" },
      { ms: 3000, mode: "drop" },
    ];
const describeCuts = CUTS.map((c) => `${c.ms} ms (${c.mode})`).join(", ");
// Shorter than a cut, so that leases expire while the worker is cut off.
const LEASE_MS = FULL ? 5000 : 1500;
const BATCH = FULL ? 1000 : 200;
const MIN_MS = 20;
const MAX_MS = 80;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithRedis("chaos: connection cut between a worker and Redis", () => {
  let proxy: TcpProxy | undefined;
  const scene = chaosScene({}, async () => {
    await proxy?.close();
  });
  const { log, workers } = scene;

  it(`does not hang, resumes and loses nothing across cuts of ${describeCuts}`, async () => {
    const prefix = `cut:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    log.watch(producer);
    proxy = await startTcpProxy(scene.server.port);
    const env = { RAPIDAI_ATTEMPT_LOG: log.file };
    const enqueue = async (n: number) => {
      const jobs = Array.from({ length: n }, () => ({
        jobId: randomUUID(),
        task: "rq.logged",
        args: [MIN_MS + Math.floor(Math.random() * (MAX_MS - MIN_MS))],
      }));
      for (const id of await producer.enqueueMany(jobs)) log.enqueued.add(id);
    };
    const startsBy = (pid: number, since: number) =>
      log.attempts().filter((a) => a.pid === pid && a.phase === "start" && a.at >= since).length;
    try {
      const cutOff = await startWorker({
        url: `redis://127.0.0.1:${proxy.port}`,
        prefix,
        threads: 2,
        leaseMs: LEASE_MS,
        env,
      });
      workers.add(cutOff);
      const direct = await startWorker({
        url: scene.server.url,
        prefix,
        threads: 2,
        leaseMs: LEASE_MS,
        env,
      });
      workers.add(direct);

      const windows: { from: number; to: number }[] = [];
      const resumeMs: number[] = [];
      for (const { ms: cutMs, mode } of CUTS) {
        // Mid-run: the worker behind the proxy holds jobs when the cut comes.
        await enqueue(BATCH);
        const since = Date.now();
        for (let i = 0; i < 500 && startsBy(cutOff.pid, since) < 5; i++) await sleep(20);
        assert.ok(startsBy(cutOff.pid, since) >= 5, "the worker behind the proxy was working");
        proxy.cut(mode);
        const from = Date.now();
        await sleep(cutMs);
        proxy.restore();
        const to = Date.now();
        windows.push({ from, to });
        // Fresh work after the cut: the worker that was cut off must take part.
        await enqueue(BATCH);
        for (let i = 0; i < 1500 && startsBy(cutOff.pid, to) === 0; i++) await sleep(20);
        assert.ok(
          startsBy(cutOff.pid, to) > 0,
          `the worker resumed after the ${cutMs} ms cut (${mode})`,
        );
        resumeMs.push(
          log.attempts().find((a) => a.pid === cutOff.pid && a.phase === "start" && a.at >= to)!
            .at - to,
        );
      }

      const verdict = await log.verdict(producer, FULL ? 180_000 : 30_000);
      console.log(
        `${log.summary("connection cut", verdict)}, cuts of ${describeCuts}, ` +
          `the cut-off worker resumed after ${resumeMs.join(", ")} ms`,
      );
      assert.deepEqual(verdict.lost, [], "lost jobs");
      assert.deepEqual(verdict.unexpected, [], "unexpected jobs");
      assert.deepEqual(verdict.duplicated, [], "jobs finished twice");
      assert.equal(cutOff.child.exitCode, null, "the cut-off worker is still running");
      assert.equal(direct.child.exitCode, null, "the direct worker is still running");

      // Re-runs are bounded: an earlier attempt of a re-run job was on the
      // cut-off worker, active around a cut (started before its end, not
      // ended a lease before its start), or was claimed and never started.
      // The attempt that completed is the last one counted.
      const attempts = log.attempts();
      const aroundCut = (at: number, endAt: number | undefined) =>
        windows.some((w) => at < w.to && (endAt === undefined || endAt > w.from - LEASE_MS));
      for (const id of log.enqueued) {
        const r = verdict.results.get(id)!;
        assert.deepEqual(
          (r.result as { attempt: number }).attempt,
          r.attempts,
          `job ${id}: the completing attempt is the last one counted`,
        );
        for (let n = 1; n < r.attempts; n++) {
          const mine = attempts.filter((a) => a.id === id && a.attempt === n);
          const start = mine.find((a) => a.phase === "start");
          if (start === undefined) continue;
          const end = mine.find((a) => a.phase === "end");
          assert.ok(
            start.pid === cutOff.pid && aroundCut(start.at, end?.at),
            `job ${id} attempt ${n} ran again without a cut to explain it: ${JSON.stringify(mine)}`,
          );
        }
      }
    } finally {
      await producer.close();
    }
  });
});
