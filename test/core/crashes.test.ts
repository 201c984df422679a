import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ErrorCode, type JobResult } from "rapidai/background";
import { brokenModuleTask } from "../fixtures/core-broken-module.js";
import { exitOnImportTask } from "../fixtures/core-exit-on-import.js";
import {
  exhaustMemory,
  exitThread,
  identity,
  leaveRejection,
  sleep,
  tally,
  throwAfterResolve,
  throwSync,
} from "../fixtures/core-tasks.js";
import {
  closeQueues,
  enqueue,
  nextEvent,
  openQueue,
  recordEvents,
  waitAll,
  withShortTally,
} from "./helpers.js";

after(() => closeQueues());

const faulty = {
  exitThread: { task: exitThread, code: ErrorCode.WORKER_CRASHED, message: /exit.*7|code: 7/i },
  throwSync: { task: throwSync, code: undefined, message: /thrown synchronously/ },
  throwAfterResolve: {
    task: throwAfterResolve,
    code: undefined,
    message: /thrown after the job returned/,
  },
  leaveRejection: { task: leaveRejection, code: undefined, message: /rejection nobody handled/ },
  exhaustMemory: { task: exhaustMemory, code: ErrorCode.WORKER_CRASHED, message: /memory/i },
} as const;

describe("worker-thread crashes", () => {
  it("fails only the faulty job of each kind, with a clear error, while healthy jobs complete", async () => {
    const queue = openQueue({ threads: 2, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    const events = recordEvents(queue);
    const kinds = Object.keys(faulty) as (keyof typeof faulty)[];
    const jobs: { id: string; kind: keyof typeof faulty | "healthy"; n: number }[] = [];
    // 40 jobs: every fourth is faulty, cycling through the five kinds twice.
    for (let n = 0; n < 40; n++) {
      if (n % 4 === 3) {
        const kind = kinds[Math.floor(n / 4) % kinds.length]!;
        jobs.push({ id: await enqueue(queue, faulty[kind].task), kind, n });
      } else {
        jobs.push({ id: await enqueue(queue, identity, { n }), kind: "healthy", n });
      }
    }
    const results = await waitAll(
      queue,
      jobs.map((j) => j.id),
    );
    const byId = new Map<string, JobResult>(results.map((r) => [r.jobId, r]));
    for (const job of jobs) {
      const r = byId.get(job.id)!;
      if (job.kind === "healthy") {
        assert.equal(r.status, "completed", `healthy job ${job.n}: ${r.error}`);
        assert.deepEqual(r.result, { n: job.n });
        assert.equal(r.attempts, 1);
        continue;
      }
      const expected = faulty[job.kind];
      assert.equal(r.status, "failed", `${job.kind} ended ${r.status}`);
      assert.equal(r.attempts, 1, `${job.kind} ran once (maxRetries 0)`);
      assert.match(r.error ?? "", expected.message, `${job.kind}: ${r.error}`);
      if (expected.code !== undefined) assert.equal(r.errorCode, expected.code, job.kind);
    }
    assert.equal(events.failed.length, 10);
    assert.equal(events.completed.length, 30);
    assert.deepEqual(await queue.countJobs(), {
      pending: 0,
      running: 0,
      completed: 30,
      failed: 10,
      cancelled: 0,
    });

    // The pool is back to two threads: two long jobs run side by side. A
    // replacement thread may still be starting just after the last crash, so
    // allow a few tries.
    let sideBySide = false;
    for (let attempt = 0; attempt < 4 && !sideBySide; attempt++) {
      const first = randomUUID();
      const second = randomUUID();
      const bothStarted = Promise.all([
        nextEvent(queue, "progress", (e) => e.jobId === first && e.progress === "body started"),
        nextEvent(queue, "progress", (e) => e.jobId === second && e.progress === "body started"),
      ]).then(() => true);
      await queue.enqueue(first, sleep, [300]);
      const firstDone = queue.waitFor(first, { timeoutMs: 20_000 }).then(() => false);
      await queue.enqueue(second, sleep, [300]);
      sideBySide = await Promise.race([bothStarted, firstDone]);
      await waitAll(queue, [first, second]);
    }
    assert.ok(sideBySide, "two jobs never ran at once on the two-thread pool");
  });

  it("loses no answer when a thread dies in the middle of a batch of short jobs, and runs no job twice", async () => {
    await withShortTally(async (queue, file, runs) => {
      // 60 jobs in one turn (one enqueueMany); the 6th ends its thread, in
      // the middle of the first batch.
      const ids = Array.from({ length: 60 }, () => randomUUID());
      await queue.enqueueMany(
        ids.map((jobId, n) => ({ jobId, task: tally, args: [file, n, n === 5] })),
      );
      const results = await waitAll(queue, ids);
      results.forEach((r, n) => {
        if (n === 5) {
          assert.equal(r.status, "failed");
          assert.equal(r.errorCode, ErrorCode.WORKER_CRASHED);
        } else {
          assert.equal(r.status, "completed", `job ${n}: ${r.error}`);
          assert.equal(r.result, n);
          assert.equal(r.attempts, 1);
        }
      });
      const times = new Map<number, number>();
      for (const n of runs()) times.set(n, (times.get(n) ?? 0) + 1);
      for (let n = 0; n < 60; n++)
        assert.equal(times.get(n), 1, `job ${n} ran ${times.get(n)} times`);
    });
  });

  it("retries a job whose thread crashed while retries are left", async () => {
    const queue = openQueue({ threads: 1 });
    const id = "crash-retried";
    await queue.enqueue(id, exitThread, [], { maxRetries: 1 });
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "failed");
    assert.equal(r.attempts, 2);
    assert.equal(r.errorCode, ErrorCode.WORKER_CRASHED);
    const later = await queue.waitFor(await enqueue(queue, identity, "ok"), { timeoutMs: 20_000 });
    assert.equal(later.status, "completed");
  });

  it("reports a task module that fails to import once, never re-imports it in a loop, and fails its jobs fast", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidai-core-"));
    const log = join(dir, "imports.log");
    // Worker threads copy the environment when they start.
    process.env.CORE_IMPORT_LOG = log;
    const printed: string[] = [];
    try {
      const queue = openQueue({ threads: 2, logger: { warn: (line) => printed.push(line) } });
      const events = recordEvents(queue);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await enqueue(queue, brokenModuleTask));
      const results = await waitAll(queue, ids);
      for (const r of results) {
        assert.equal(r.status, "failed");
        assert.equal(r.errorCode, ErrorCode.TASK_MODULE_IMPORT);
        assert.match(r.error ?? "", /core-broken-module/);
        assert.match(r.error ?? "", /refuses to load/);
        assert.ok(r.attempts <= 1, `no retry of a broken module (attempts ${r.attempts})`);
      }
      assert.equal(events.error.length, 1, "one error event");
      const reported = events.error[0]?.error as { code?: string } | undefined;
      assert.equal(reported?.code, ErrorCode.TASK_MODULE_IMPORT);
      assert.equal(
        printed.filter((line) => line.includes("failed to import")).length,
        1,
        "one logged line",
      );
      const imports = readFileSync(log, "utf8").split("\n").filter(Boolean).length;
      assert.ok(imports >= 1 && imports <= 2, `imported ${imports} times by 2 threads`);
      // The pool is healthy: other tasks still run.
      const ok = await queue.waitFor(await enqueue(queue, identity, "fine"), { timeoutMs: 20_000 });
      assert.equal(ok.status, "completed");
    } finally {
      delete process.env.CORE_IMPORT_LOG;
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("treats a task module that ends its thread while being imported as broken: no thread re-created in a loop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidai-core-"));
    const log = join(dir, "imports.log");
    process.env.CORE_EXIT_IMPORT_LOG = log;
    const original = console.error;
    console.error = () => {};
    try {
      const queue = openQueue({ threads: 2 });
      const events = recordEvents(queue);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await enqueue(queue, exitOnImportTask));
      const results = await waitAll(queue, ids);
      for (const r of results) {
        assert.equal(r.status, "failed");
        assert.equal(r.errorCode, ErrorCode.TASK_MODULE_IMPORT);
        assert.match(r.error ?? "", /core-exit-on-import/);
        assert.ok(r.attempts <= 1, `no retry of a broken module (attempts ${r.attempts})`);
      }
      assert.equal(events.error.length, 1, "one error event");
      const imports = readFileSync(log, "utf8").split("\n").filter(Boolean).length;
      assert.ok(
        imports >= 1 && imports <= 2,
        `threads killed by the import: ${imports}, not one per job`,
      );
      const ok = await queue.waitFor(await enqueue(queue, identity, "fine"), { timeoutMs: 20_000 });
      assert.equal(ok.status, "completed");
    } finally {
      console.error = original;
      delete process.env.CORE_EXIT_IMPORT_LOG;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
