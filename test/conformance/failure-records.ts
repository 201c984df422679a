/**
 * What a failed, retried or cancelled job's record says, the same on every
 * backend (run by test/conformance.test.ts): the error rule (`error` the
 * message, `errorCode` the code, the name in the stack's first line), the
 * bounded stack, and what `duration` means. See docs/errors.md.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { ErrorCode, type JobQueue } from "rapidai/background";
import { STACK_LIMITS } from "../../src/errors.js";
import type { QueueFactory } from "./queue-conformance.js";
import "../fixtures/conformance-tasks.js";
import "../fixtures/failure-tasks.js";
import { until } from "../support/until.js";

const frames = (stack: string) => stack.split("\n").filter((l) => /^\s+at\s/.test(l)).length;

export function failureRecordConformance(backend: string, factory: QueueFactory): void {
  describe(`failure records: ${backend}`, () => {
    const opened: JobQueue[] = [];
    const open = async () => {
      const q = await factory({ threads: 1 });
      opened.push(q);
      return q;
    };
    after(async () => {
      await Promise.all(opened.map((q) => q.close({ timeoutMs: 1000 })));
    });
    const id = () => randomUUID();
    const ended = async (q: JobQueue, jobId: string) => {
      await q.waitFor(jobId, { timeoutMs: 20_000 });
      return (await q.getResult(jobId))!;
    };

    it("keeps a failed job's stack, headed by the error's name, and the message alone as its error", async () => {
      const q = await open();
      const r = await ended(q, await q.enqueue(id(), "conf.fail", ["boom"]));
      assert.equal(r.status, "failed");
      assert.equal(r.error, "boom");
      assert.equal(r.errorCode, undefined);
      assert.match(r.stack ?? "", /^TypeError: boom\n\s+at .*\bfail\b/);
      // Listings stay light: no stack in a row.
      const row = (await q.listJobs("failed")).find((j) => j.jobId === r.jobId);
      assert.equal(row?.error, "boom");
      assert.equal(row?.stack, undefined);
    });

    it("cuts a deep stack to its frame limit, and says so", async () => {
      const q = await open();
      const r = await ended(q, await q.enqueue(id(), "failrec.deep", [200]));
      assert.equal(r.error, "too deep at 200");
      const stack = r.stack ?? "";
      assert.match(stack, /^RangeError: too deep at 200\n/);
      assert.equal(frames(stack), STACK_LIMITS.frames);
      assert.match(stack, /\n {4}… \(\d+ more lines cut\)$/);
      assert.ok(stack.length <= STACK_LIMITS.chars);
    });

    it("cuts a stack to its size limit, however long the message", async () => {
      const q = await open();
      const r = await ended(q, await q.enqueue(id(), "failrec.long", [20_000]));
      assert.equal(r.error, "m".repeat(20_000), "the message itself is kept whole");
      const stack = r.stack ?? "";
      assert.ok(stack.startsWith("Error: mmm"));
      assert.ok(stack.length <= STACK_LIMITS.chars, `${stack.length} characters`);
      assert.match(stack, /more lines cut\)$/);
    });

    it("stores an error with an empty message as its name", async () => {
      const q = await open();
      const r = await ended(q, await q.enqueue(id(), "failrec.nameless", []));
      assert.equal(r.error, "TypeError");
      assert.match(r.stack ?? "", /^TypeError\n\s+at .*\bnameless\b/);
    });

    it("keeps no stack for an error the engine made without one, and the code apart", async () => {
      const q = await open();
      const r = await ended(q, await q.enqueue(id(), "conf.slow", [2_000]));
      assert.equal(r.errorCode, ErrorCode.TIMEOUT);
      assert.equal(r.error?.startsWith("JobError"), false);
      assert.equal(r.stack, undefined);
    });

    it("has no duration for a job cancelled before it ever started", async () => {
      const q = await open();
      const jobId = await q.enqueue(id(), "conf.add", [1, 2], { delayMs: 60_000 });
      assert.equal(await q.cancel(jobId), true);
      const r = (await q.getResult(jobId))!;
      assert.equal(r.status, "cancelled");
      assert.ok(r.completedAt instanceof Date);
      assert.equal(r.startedAt, undefined);
      assert.equal(r.duration, undefined);
      const row = (await q.listJobs("cancelled")).find((j) => j.jobId === jobId);
      assert.equal(row?.duration, undefined);
      // Retried by hand, it runs: now it has the duration of that attempt.
      assert.equal(await q.retry(jobId), true);
      const again = await ended(q, jobId);
      assert.equal(again.status, "completed");
      assert.equal(typeof again.duration, "number");
    });

    it("has no duration for a job cancelled while it waited out a retry backoff", async () => {
      const q = await open();
      const jobId = await q.enqueue(id(), "failrec.longBackoff", []);
      await until("the first attempt to fail", async () => {
        const r = await q.getResult(jobId);
        return r?.status === "pending" && r.attempts === 1;
      });
      assert.equal(await q.cancel(jobId), true);
      const r = (await q.getResult(jobId))!;
      assert.equal(r.status, "cancelled");
      assert.ok(r.startedAt instanceof Date, "its last attempt's start is kept");
      assert.equal(r.duration, undefined);
      const row = (await q.listJobs("cancelled")).find((j) => j.jobId === jobId);
      assert.equal(row?.duration, undefined);
    });

    it("has no duration for a job failed by its dependency, which never ran", async () => {
      const q = await open();
      const dep = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000 });
      const jobId = await q.enqueue(id(), "conf.add", [2, 2], { dependsOn: [dep] });
      assert.equal(await q.cancel(dep), true);
      const r = await ended(q, jobId);
      assert.equal(r.status, "failed");
      assert.equal(r.errorCode, ErrorCode.DEPENDENCY_FAILED);
      assert.equal(r.duration, undefined);
      assert.equal(r.stack, undefined);
    });

    it("gives a retried job the duration of its last attempt only", async () => {
      const q = await open();
      const r = await ended(q, await q.enqueue(id(), "failrec.slowThenQuick", [1_000, 20]));
      assert.equal(r.status, "completed");
      assert.equal(r.attempts, 2);
      const d = r.duration!;
      assert.equal(d, (r.completedAt!.getTime() - r.startedAt!.getTime()) / 1000);
      assert.ok(d < 0.8, `last attempt ran ${d} s, not the first's 1 s`);
      const inQueue = (r.completedAt!.getTime() - r.createdAt.getTime()) / 1000;
      assert.ok(
        inQueue >= 1.2,
        `the whole run (${inQueue} s) covers both attempts and the backoff`,
      );
      assert.equal(r.stack, undefined, "a completed job keeps no stack");
    });
  });
}
