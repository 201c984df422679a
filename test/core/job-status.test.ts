import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  ErrorCode,
  isTerminal,
  JOB_STATUSES,
  JobError,
  JobResult,
  JobStatus,
  parseJobStatus,
} from "rapidai/background";
import { identity } from "../fixtures/core-tasks.js";
import { closeQueues, openQueue, runToEnd } from "./helpers.js";

after(() => closeQueues());

describe("JobStatus", () => {
  it("has exactly the five states of the seed, as lower-case strings", () => {
    assert.deepEqual(
      { ...JobStatus },
      {
        PENDING: "pending",
        RUNNING: "running",
        COMPLETED: "completed",
        FAILED: "failed",
        CANCELLED: "cancelled",
      },
    );
    assert.deepEqual([...JOB_STATUSES], ["pending", "running", "completed", "failed", "cancelled"]);
  });

  it("parses each of the five states to itself", () => {
    for (const s of JOB_STATUSES) assert.equal(parseJobStatus(s), s);
  });

  it("rejects any other value with ERR_INVALID_STATUS naming it", () => {
    for (const bad of [
      "Pending",
      " pending",
      "pending ",
      "queued",
      "done",
      "",
      "PENDING",
      1,
      null,
      undefined,
      {},
    ]) {
      assert.throws(
        () => parseJobStatus(bad),
        (e: unknown) =>
          e instanceof JobError &&
          e.code === ErrorCode.INVALID_STATUS &&
          e.message.includes(JSON.stringify(bad) ?? "undefined"),
        `accepted ${JSON.stringify(bad)}`,
      );
    }
  });

  it("calls completed, failed and cancelled terminal, and only those", () => {
    assert.deepEqual(
      JOB_STATUSES.filter((s) => isTerminal(s)),
      ["completed", "failed", "cancelled"],
    );
  });
});

describe("JobResult", () => {
  const createdAt = new Date("2026-01-01T00:00:00.000Z");
  const startedAt = new Date("2026-01-01T00:00:01.000Z");
  const completedAt = new Date("2026-01-01T00:00:03.500Z");
  const base = { jobId: "j", task: "t", createdAt, attempts: 1, maxRetries: 3 };

  it("has no duration and is not done while pending or running", () => {
    const pending = new JobResult({ ...base, status: "pending", attempts: 0 });
    assert.equal(pending.duration, undefined);
    assert.equal(pending.isDone, false);
    const running = new JobResult({ ...base, status: "running", startedAt });
    assert.equal(running.duration, undefined);
    assert.equal(running.isDone, false);
  });

  it("gives the duration in seconds from start to completion once done", () => {
    for (const status of ["completed", "failed", "cancelled"] as const) {
      const r = new JobResult({ ...base, status, startedAt, completedAt });
      assert.equal(r.duration, 2.5);
      assert.equal(r.isDone, true);
    }
  });

  it("has no duration for a job that ended while pending, started before or not", () => {
    const never = new JobResult({ ...base, status: "cancelled", attempts: 0, completedAt });
    assert.equal(never.duration, undefined);
    const inBackoff = new JobResult({
      ...base,
      status: "cancelled",
      startedAt,
      completedAt,
      endedPending: true,
    });
    assert.equal(inBackoff.duration, undefined);
    assert.equal(inBackoff.isDone, true);
  });

  it("carries the seed's fields, omitting result and error when there are none", () => {
    const r = new JobResult({
      ...base,
      status: "completed",
      result: { x: 1 },
      startedAt,
      completedAt,
    });
    assert.equal(r.jobId, "j");
    assert.equal(r.status, "completed");
    assert.deepEqual(r.result, { x: 1 });
    assert.equal(r.error, undefined);
    assert.equal(r.createdAt, createdAt);
    assert.equal(r.startedAt, startedAt);
    assert.equal(r.completedAt, completedAt);
    assert.equal(r.attempts, 1);
    assert.equal(r.maxRetries, 3);
    assert.equal("error" in JSON.parse(JSON.stringify(r)), false);
  });

  it("is what a finished job reads back as, with dates and a non-negative duration", async () => {
    const queue = openQueue();
    const r = await runToEnd(queue, identity, "v");
    assert.ok(r instanceof JobResult);
    assert.equal(r.isDone, true);
    assert.ok(
      r.createdAt instanceof Date && r.startedAt instanceof Date && r.completedAt instanceof Date,
    );
    assert.ok(r.createdAt <= r.startedAt! && r.startedAt! <= r.completedAt!);
    assert.equal(typeof r.duration, "number");
    assert.ok(r.duration! >= 0);
    assert.equal(r.attempts, 1);
    assert.equal(r.maxRetries, 0);
  });
});
