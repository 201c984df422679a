/**
 * Model-based test (RELIABILITY.md): fast-check command sequences (enqueue,
 * cancel, wait, tick, and jobs that crash their thread) against a
 * reference model, on both stores: only legal transitions, no attempt
 * claimed twice, each job where the model says, backoff times as
 * configured. Fewer runs on Redis, whose round trips make each one slower.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { InMemoryQueue, type JobQueue, RedisQueue } from "rapidai/background";
import "../fixtures/model-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";
import { checkEvents, commands, journalOf, type Model, type Real } from "./model-commands.js";

function modelSuite(name: string, open: () => JobQueue, numRuns: number): void {
  describe(`model-based on ${name}: command sequences against a reference model`, () => {
    let queue: JobQueue;
    before(() => {
      queue = open();
    });
    after(() => queue.close({ timeoutMs: 2_000 }));

    it("makes only legal transitions, claims no attempt twice, keeps the configured backoffs, and ends each job where the model says", async () => {
      const journal = journalOf(queue);
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 20, size: "+1" }), async (cmds) => {
          const model: Model = { jobs: [] };
          const real: Real = { queue };
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          for (const job of model.jobs) await checkEvents(job, real, journal);
        }),
        // verbose: a failure names the assertion or error that broke the run,
        // not only the command sequence (a rare one must be readable from CI's log).
        { numRuns, verbose: 1 },
      );
      const counts = await queue.countJobs();
      assert.equal(counts.pending + counts.running, 0, "nothing left pending or running");
    });
  });
}

modelSuite("InMemoryQueue", () => new InMemoryQueue({ threads: 2, cancelGraceMs: 100 }), 20);

describeWithRedis("model-based on Redis", () => {
  let server: RedisHandle | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => server?.stop());
  modelSuite(
    "RedisQueue",
    () =>
      new RedisQueue({
        url: server!.url,
        prefix: `model:${randomUUID()}:`,
        threads: 2,
        cancelGraceMs: 100,
        logger: { warn() {} },
      }),
    10,
  );
});
