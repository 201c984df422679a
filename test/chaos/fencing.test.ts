/**
 * Fencing: a worker frozen (SIGSTOP) past its lease loses the job to
 * another worker, which completes it; once thawed (SIGCONT), its late answer
 * is refused and logged, and it carries on with other jobs.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis } from "../support/redis-server.js";
import { FENCING_CODES, warningLines } from "../support/warning-lines.js";
import { startWorker } from "../support/worker-process.js";
import { chaosScene } from "./scene.js";

const LEASE_MS = 1000;
const LOGGING_WORKER = fileURLToPath(new URL("../fixtures/logging-worker.js", import.meta.url));

describeWithRedis("chaos: fencing with SIGSTOP and SIGCONT", () => {
  const scene = chaosScene();
  const { log, workers } = scene;

  it("refuses the late completion of a worker that lost its lease while frozen, and keeps one result", async () => {
    const prefix = `fence:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    log.watch(producer);
    const env = { RAPIDAI_ATTEMPT_LOG: log.file };
    const startedBy = async (id: string, attempt: number) => {
      for (let i = 0; i < 500; i++) {
        const a = log
          .attempts()
          .find((x) => x.id === id && x.attempt === attempt && x.phase === "start");
        if (a) return a;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`attempt ${attempt} of ${id} never started`);
    };
    try {
      // It logs its warnings as coded lines, which the test reads back.
      const frozen = await startWorker({
        url: scene.server.url,
        prefix,
        env,
        script: { path: LOGGING_WORKER, args: [scene.server.url, prefix, String(LEASE_MS), "1"] },
      });
      workers.add(frozen);
      const id = await producer.enqueue(randomUUID(), "rq.logged", [2000]);
      log.enqueued.add(id);
      assert.equal((await startedBy(id, 1)).pid, frozen.pid);
      frozen.kill("SIGSTOP");
      const rescuer = await startWorker({
        url: scene.server.url,
        prefix,
        threads: 1,
        leaseMs: LEASE_MS,
        env,
      });
      workers.add(rescuer);
      assert.equal((await startedBy(id, 2)).pid, rescuer.pid, "the other worker took the job over");
      const r = await producer.waitFor(id, { timeoutMs: 15_000 });
      assert.equal(r.status, "completed");
      assert.deepEqual(r.result, { pid: rescuer.pid, attempt: 2 });

      // Thaw the first worker: its attempt ends, and its answer must be refused.
      rescuer.kill("SIGKILL");
      frozen.kill("SIGCONT");
      // It learns at its next renewal that it lost the lease (LEASE_LOST), or
      // finishes first and has its completion refused (END_REFUSED): either
      // way about this job's first attempt, and nothing else.
      const fenced = () =>
        warningLines(frozen.output()).filter((w) => FENCING_CODES.includes(w.code!));
      for (let i = 0; i < 750 && fenced().length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(fenced().length > 0, `no fencing warning:\n${frozen.output()}`);
      for (const w of fenced()) {
        assert.deepEqual([w.jobId, w.attempt], [id, 1], JSON.stringify(w));
      }
      const after = await producer.getResult(id);
      assert.deepEqual(
        after?.result,
        { pid: rescuer.pid, attempt: 2 },
        "the result stays the rescuer's",
      );
      assert.equal(after?.attempts, 2);

      // And it carries on.
      const next = await producer.enqueue(randomUUID(), "rq.logged", [10]);
      log.enqueued.add(next);
      const n = await producer.waitFor(next, { timeoutMs: 15_000 });
      assert.deepEqual(n.result, { pid: frozen.pid, attempt: 1 });
      const verdict = await log.verdict(producer, 5_000);
      console.log(log.summary("fencing", verdict));
      assert.deepEqual([verdict.lost, verdict.duplicated, verdict.unexpected], [[], [], []]);
    } finally {
      await producer.close();
    }
  });
});
