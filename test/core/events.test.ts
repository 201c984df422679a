import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import type {
  CancelledEvent,
  CompletedEvent,
  EnqueuedEvent,
  FailedEvent,
  JobQueueEvents,
  ProgressEvent,
  RetryingEvent,
  StartedEvent,
  StatusEvent,
} from "rapidai/background";
import { ErrorCode, JOB_EVENTS } from "rapidai/background";
import { failTimes, identity, reportProgress, sleep } from "../fixtures/core-tasks.js";
import { closeQueues, enqueue, openQueue, startBody } from "./helpers.js";

after(() => closeQueues());

type Name = keyof JobQueueEvents;

/** Records [event, payload] in emission order, checking each listener call gets one argument. */
function journal(queue: ReturnType<typeof openQueue>) {
  const log: [Name, unknown][] = [];
  const names: readonly Name[] = JOB_EVENTS;
  for (const name of names) {
    queue.on(name, ((...args: unknown[]) => {
      assert.equal(args.length, 1, `${name} carries one payload object`);
      assert.equal(typeof args[0], "object");
      log.push([name, args[0]]);
    }) as never);
  }
  const of = (jobId: string) => log.filter(([, p]) => (p as { jobId: string }).jobId === jobId);
  return { log, of };
}

describe("queue events", () => {
  const queue = openQueue({ threads: 1, cancelGraceMs: 100 });
  const j = journal(queue);

  it("announces a completed job: status, enqueued, started, completed, each one payload", async () => {
    const id = await enqueue(queue, identity, { v: 1 });
    await queue.waitFor(id, { timeoutMs: 20_000 });
    const events = j.of(id);
    assert.deepEqual(
      events.map(([name, p]) =>
        name === "status" ? `status ${(p as StatusEvent).from}→${(p as StatusEvent).to}` : name,
      ),
      [
        "status null→pending",
        "enqueued",
        "status pending→running",
        "started",
        "status running→completed",
        "completed",
      ],
    );
    const enqueued = events[1]![1] as EnqueuedEvent;
    assert.deepEqual(enqueued, { jobId: id, task: "identity", delayMs: 0 });
    const started = events[3]![1] as StartedEvent;
    assert.deepEqual(started, { jobId: id, task: "identity", attempt: 1 });
    const completed = events[5]![1] as CompletedEvent;
    assert.equal(completed.jobId, id);
    assert.equal(completed.task, "identity");
    assert.equal(completed.attempt, 1);
    assert.deepEqual(completed.result, { v: 1 });
    assert.equal(typeof completed.durationMs, "number");
    assert.ok(completed.durationMs >= 0);
    const status = events[0]![1] as StatusEvent;
    assert.deepEqual(Object.keys(status).sort(), ["at", "attempts", "from", "jobId", "task", "to"]);
    assert.equal(status.attempts, 0);
    assert.equal((events[4]![1] as StatusEvent).attempts, 1);
  });

  it("announces retries and a final failure with attempt, error, code and delay", async () => {
    const id = randomUUID();
    await queue.enqueue(id, failTimes, [5], { maxRetries: 1 });
    await queue.waitFor(id, { timeoutMs: 20_000 });
    const events = j.of(id);
    const names = events.map(([n]) => n);
    assert.deepEqual(
      names.filter((n) => n !== "status"),
      ["enqueued", "started", "retrying", "started", "failed"],
    );
    assert.equal(names.filter((n) => n === "status").length, 5);
    const retrying = events.find(([n]) => n === "retrying")![1] as RetryingEvent;
    assert.deepEqual(retrying, {
      jobId: id,
      task: "failTimes",
      attempt: 1,
      error: "attempt 1 failed",
      delayMs: 1,
    });
    const failed = events.find(([n]) => n === "failed")![1] as FailedEvent;
    assert.equal(failed.jobId, id);
    assert.equal(failed.task, "failTimes");
    assert.equal(failed.attempt, 2);
    assert.equal(failed.error, "attempt 2 failed");
  });

  it("carries the error code on failed when the error had one", async () => {
    const id = randomUUID();
    await queue.enqueue(id, "spinPastTimeout", [60_000]);
    await queue.waitFor(id, { timeoutMs: 20_000 });
    const failed = j.of(id).find(([n]) => n === "failed")![1] as FailedEvent;
    assert.equal(failed.code, ErrorCode.TIMEOUT);
  });

  it("announces a cancel of a pending and of a running job, with the attempts made", async () => {
    const pending = randomUUID();
    await queue.enqueue(pending, identity, [1], { delayMs: 60_000 });
    await queue.cancel(pending);
    const running = await startBody(queue, sleep, 60_000);
    await queue.cancel(running);
    const a = j.of(pending).find(([n]) => n === "cancelled")![1] as CancelledEvent;
    assert.deepEqual(a, { jobId: pending, task: "identity", attempts: 0 });
    const b = j.of(running).find(([n]) => n === "cancelled")![1] as CancelledEvent;
    assert.deepEqual(b, { jobId: running, task: "sleep", attempts: 1 });
    assert.equal(
      (j.of(pending).find(([n]) => n === "enqueued")![1] as EnqueuedEvent).delayMs,
      60_000,
    );
    const last = j
      .of(running)
      .filter(([n]) => n === "status")
      .at(-1)![1] as StatusEvent;
    assert.equal(`${last.from}→${last.to}`, "running→cancelled");
  });

  it("announces progress with the job and task", async () => {
    const id = await enqueue(queue, reportProgress, ["half"], 5);
    await queue.waitFor(id, { timeoutMs: 20_000 });
    const progress = j.of(id).find(([n]) => n === "progress")![1] as ProgressEvent;
    assert.deepEqual(progress, { jobId: id, task: "reportProgress", progress: "half" });
  });

  it("types each event's payload (checked by the compiler)", () => {
    const typed = (q: ReturnType<typeof openQueue>) => {
      q.on("completed", (e) => e.result);
      q.on("retrying", (e) => e.delayMs.toFixed());
      q.on("status", (e) => e.to.toUpperCase());
      // @ts-expect-error: not an event of the queue
      q.on("finished", () => {});
      // @ts-expect-error: a status payload has no `result`
      q.on("status", (e) => e.result);
    };
    assert.equal(typeof typed, "function");
  });
});
