import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import {
  canTransition,
  ErrorCode,
  JOB_STATUSES,
  type JobStatus,
  type StatusEvent,
  TRANSITIONS,
} from "rapidai/background";
import {
  alwaysFail,
  exitThread,
  failTimes,
  identity,
  sleep,
  sleepPastTimeout,
} from "../fixtures/core-tasks.js";
import { closeQueues, enqueue, openQueue, startBody, waitAll } from "./helpers.js";

after(() => closeQueues());

// DESIGN sections 2 and 6 (retry: failed | cancelled → pending), written out
// independently of src/state-machine.ts.
const LEGAL: Record<JobStatus, JobStatus[]> = {
  pending: ["running", "cancelled", "failed"],
  running: ["pending", "completed", "failed", "cancelled"],
  completed: [],
  failed: ["pending"],
  cancelled: ["pending"],
};

describe("the job state machine", () => {
  it("allows exactly the transitions of the design: none out of completed, only back to pending (retry) out of failed and cancelled", () => {
    for (const from of JOB_STATUSES) {
      assert.deepEqual([...TRANSITIONS[from]].sort(), [...LEGAL[from]].sort(), `from ${from}`);
      for (const to of JOB_STATUSES) {
        assert.equal(canTransition(from, to), LEGAL[from].includes(to), `${from} → ${to}`);
      }
    }
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...JOB_STATUSES].sort());
  });

  it("is frozen, so no caller can add a transition at run time", () => {
    assert.ok(Object.isFrozen(TRANSITIONS));
    for (const from of JOB_STATUSES) assert.ok(Object.isFrozen(TRANSITIONS[from]));
    assert.throws(() => {
      (TRANSITIONS.completed as JobStatus[]).push("pending");
    }, TypeError);
    assert.equal(canTransition("completed", "pending"), false);
  });

  it("makes only legal transitions over a mixed workload, each job ending in one terminal state", async () => {
    const queue = openQueue({ threads: 2, cancelGraceMs: 300 });
    const byJob = new Map<string, StatusEvent[]>();
    queue.on("status", (e) => {
      const list = byJob.get(e.jobId) ?? [];
      list.push(e);
      byJob.set(e.jobId, list);
    });

    const ids: string[] = [];
    const expected = new Map<string, JobStatus>();
    const add = (id: string, status: JobStatus) => {
      ids.push(id);
      expected.set(id, status);
    };
    for (let i = 0; i < 4; i++) add(await enqueue(queue, identity, i), "completed");
    add(await enqueue(queue, failTimes, 2), "completed");
    add(await enqueue(queue, alwaysFail, "always"), "failed");
    add(await enqueue(queue, exitThread), "failed");
    add(await enqueue(queue, sleepPastTimeout, 5_000), "failed");
    // Cancelled while pending (delayed) and while running.
    const delayed = randomUUID();
    await queue.enqueue(delayed, identity, ["delayed"], { delayMs: 60_000 });
    add(delayed, "cancelled");
    assert.equal(await queue.cancel(delayed), true);
    const running = await startBody(queue, sleep, 60_000);
    add(running, "cancelled");
    assert.equal(await queue.cancel(running), true);

    const results = await waitAll(queue, ids);
    for (const r of results) assert.equal(r.status, expected.get(r.jobId), `${r.task} ${r.error}`);

    for (const id of ids) {
      const events = byJob.get(id) ?? [];
      assert.ok(events.length >= 2, `job ${id} made ${events.length} transitions`);
      assert.equal(events[0]?.from, null, "a job is born pending");
      assert.equal(events[0]?.to, "pending");
      for (let i = 1; i < events.length; i++) {
        const prev = events[i - 1]!;
        const e = events[i]!;
        assert.equal(e.from, prev.to, `job ${id}: event ${i} starts where the last one ended`);
        assert.ok(canTransition(e.from!, e.to), `job ${id}: illegal ${e.from} → ${e.to}`);
        assert.ok(e.at >= prev.at);
      }
      assert.equal(events.at(-1)?.to, expected.get(id));
    }
    // failTimes(2): pending → running → pending → running → pending → running → completed.
    const retried = byJob.get(ids[4]!)!.map((e) => e.to);
    assert.deepEqual(retried, [
      "pending",
      "running",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);
    const timedOut = results.find((r) => r.task === "sleepPastTimeout")!;
    assert.equal(timedOut.errorCode, ErrorCode.TIMEOUT);
    assert.equal(timedOut.attempts, 3);
  });
});
