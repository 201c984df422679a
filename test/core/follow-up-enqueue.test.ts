import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { ErrorCode, getQueue } from "rapidai/background";
import {
  enqueueFollowUp,
  enqueueFollowUpWith,
  identity,
  tryRefusedFollowUp,
} from "../fixtures/core-tasks.js";
import { adoptQueue, closeQueues } from "./helpers.js";

// task.enqueue() inside a job goes to the main thread's queue for that task:
// here the process-wide default, which these tasks use.
const queue = adoptQueue(getQueue("memory", { threads: 2 }));
after(() => closeQueues());

/** What `tryRefusedFollowUp` reports about the enqueue it tried. */
interface RefusedFollowUp {
  refused: boolean;
  isJobError: boolean;
  code: string;
  message: string;
}

describe("enqueueing from inside a running job", () => {
  it("sends task.enqueue() from a worker thread to the main thread's queue, where the follow-up job runs", async () => {
    const id = await enqueueFollowUp.enqueue("first");
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "completed", r.error);
    const { followUpId, isMainThread } = r.result as { followUpId: string; isMainThread: boolean };
    assert.equal(isMainThread, false);
    assert.equal(typeof followUpId, "string");
    const followUp = await identity.waitFor(followUpId, { timeoutMs: 20_000 });
    assert.equal(followUp.status, "completed");
    assert.equal(followUp.task, "identity");
    assert.equal(followUp.result, "first (follow-up)");
    const listed = (await queue.listJobs()).map((j) => j.jobId);
    assert.ok(listed.includes(id) && listed.includes(followUpId));
  });

  it("passes per-call options of a follow-up through to the main thread", async () => {
    const followUpId = `follow-up-${randomUUID()}`;
    const id = await enqueueFollowUpWith.enqueue(followUpId);
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "completed", r.error);
    assert.equal(r.result, followUpId);
    const followUp = await queue.waitFor(followUpId, { timeoutMs: 20_000 });
    assert.equal(followUp.result, "with options");
    // Idempotent: a second job asking for the same id adds nothing.
    const again = await queue.waitFor(await enqueueFollowUpWith.enqueue(followUpId), {
      timeoutMs: 20_000,
    });
    assert.equal(again.result, followUpId);
    assert.equal((await queue.listJobs()).filter((j) => j.jobId === followUpId).length, 1);
  });

  it("lets many jobs enqueue follow-ups at once", async () => {
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) => enqueueFollowUp.enqueue(`n${i}`)),
    );
    const results = await Promise.all(ids.map((id) => queue.waitFor(id, { timeoutMs: 20_000 })));
    const followUps = await Promise.all(
      results.map((r) =>
        queue.waitFor((r.result as { followUpId: string }).followUpId, { timeoutMs: 20_000 }),
      ),
    );
    assert.deepEqual(
      followUps.map((f) => f.result),
      Array.from({ length: 10 }, (_, i) => `n${i} (follow-up)`),
    );
  });

  it("hands a follow-up the main thread refuses back to the job as a JobError with its code", async () => {
    const r = await queue.waitFor(await tryRefusedFollowUp.enqueue("bad-id"), {
      timeoutMs: 20_000,
    });
    assert.equal(r.status, "completed", r.error);
    const caught = r.result as RefusedFollowUp;
    assert.equal(caught.refused, true);
    assert.equal(caught.isJobError, true);
    assert.equal(caught.code, ErrorCode.INVALID_JOB_ID);
    assert.match(caught.message, /bad id!/);
  });

  it("refuses an uncloneable follow-up argument inside the job with ERR_ARGUMENT_NOT_CLONEABLE naming it", async () => {
    const before = await queue.countJobs();
    const r = await queue.waitFor(await tryRefusedFollowUp.enqueue("uncloneable"), {
      timeoutMs: 20_000,
    });
    const caught = r.result as RefusedFollowUp;
    assert.equal(caught.refused, true);
    assert.equal(caught.isJobError, true);
    assert.equal(caught.code, ErrorCode.ARGUMENT_NOT_CLONEABLE);
    assert.match(caught.message, /args\[0\]\.callback/);
    const after = await queue.countJobs();
    assert.equal(after.completed, before.completed + 1, "only the job itself was stored");
  });
});
