import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import "../../src/demo/tasks.js";
import {
  closeQueue,
  enqueue,
  type RunningService,
  readEvents,
  request,
  type SseEvent,
  startService,
} from "./harness.js";

const queue = getQueue("memory", { threads: 2 });
let svc: RunningService;

before(async () => {
  svc = await startService({ queue, heartbeatMs: 100 });
});
after(async () => {
  await svc.close();
  await closeQueue(queue);
});

const named = (events: SseEvent[], name: string) => events.filter((e) => e.event === name);

/** Waits until the queue has `n` status listeners (the server notices a gone client a moment later). */
async function statusListeners(n: number): Promise<number> {
  const deadline = Date.now() + 2000;
  while (queue.listenerCount("status") !== n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return queue.listenerCount("status");
}

describe("GET /events", () => {
  test("streams a job's life as named events with snake_case JSON data", async () => {
    let id = "";
    const { status, contentType, events } = await readEvents(
      `${svc.base}/events`,
      (evs) => evs.some((e) => e.event === "completed" && e.data.job_id === id),
      { onOpen: async () => (id = await enqueue(svc.base, "sleep", [300])) },
    );
    assert.equal(status, 200);
    assert.match(contentType ?? "", /^text\/event-stream/);
    const mine = events.filter((e) => e.data?.job_id === id);
    const names = mine.map((e) => e.event);
    for (const name of ["enqueued", "status", "started", "progress", "completed"]) {
      assert.ok(names.includes(name), `${name} in ${names.join(",")}`);
    }
    const transitions = named(mine, "status").map((e) => `${e.data.from}->${e.data.to}`);
    assert.deepEqual(transitions, ["null->pending", "pending->running", "running->completed"]);
    const running = named(mine, "status")[1]!.data;
    assert.equal(running.task, "sleep");
    assert.equal(typeof running.at, "number");
    assert.equal(typeof running.attempts, "number");
    assert.equal(named(mine, "enqueued")[0]!.data.delay_ms, 0);
    assert.equal(named(mine, "started")[0]!.data.attempt, 1);
    const progress = named(mine, "progress").map((e) => e.data.progress);
    assert.ok(progress.length >= 2 && progress.every((p) => p > 0 && p <= 1), String(progress));
    const done = named(mine, "completed")[0]!.data;
    assert.equal(typeof done.duration_ms, "number");
    assert.equal("result" in done, false);
    assert.ok(mine.every((e) => Object.keys(e.data).every((k) => !/[A-Z]/.test(k))));
  });

  test("streams retrying and failed events with the error and the delay", async () => {
    let id = "";
    const { events } = await readEvents(
      `${svc.base}/events`,
      (evs) => evs.some((e) => e.event === "failed" && e.data.job_id === id),
      { onOpen: async () => (id = await enqueue(svc.base, "fail", ["nope"])) },
    );
    const retrying = events.filter((e) => e.event === "retrying" && e.data.job_id === id);
    assert.equal(retrying.length, 2);
    assert.equal(retrying[0]!.data.error, "nope");
    assert.equal(retrying[0]!.data.delay_ms, 500);
    const failed = events.find((e) => e.event === "failed" && e.data.job_id === id)!;
    assert.equal(failed.data.error, "nope");
    assert.equal(failed.data.attempt, 3);
  });

  test("streams a cancelled event", async () => {
    let id = "";
    const { events } = await readEvents(
      `${svc.base}/events`,
      (evs) => evs.some((e) => e.event === "cancelled" && e.data.job_id === id),
      {
        onOpen: async () => {
          const a = await request(`${svc.base}/jobs/fib`, {
            body: { args: [1], delay_ms: 60_000 },
          });
          id = a.body.job_id;
          await request(`${svc.base}/jobs/${id}`, { method: "DELETE" });
        },
      },
    );
    const cancelled = events.find((e) => e.event === "cancelled" && e.data.job_id === id)!;
    assert.equal(cancelled.data.attempts, 0);
    assert.equal(cancelled.data.task, "fib");
  });

  test("sends a heartbeat comment while nothing happens", async () => {
    const { events } = await readEvents(
      `${svc.base}/events`,
      (evs) => evs.filter((e) => e.event === ":").length >= 3,
    );
    assert.ok(events.filter((e) => e.event === ":").length >= 3);
  });

  test("filters by job_id", async () => {
    let id = "";
    const { events } = await readEvents(
      `${svc.base}/events?job_id=watched-1`,
      (evs) => evs.some((e) => e.event === "completed"),
      {
        onOpen: async () => {
          await enqueue(svc.base, "fib", [2]);
          id = (await request(`${svc.base}/jobs/fib`, { body: { args: [3], job_id: "watched-1" } }))
            .body.job_id;
        },
      },
    );
    assert.equal(id, "watched-1");
    const about = events.filter((e) => e.event !== ":").map((e) => e.data.job_id);
    assert.ok(about.length > 0 && about.every((j) => j === "watched-1"), about.join(","));
  });

  test("removes its queue listeners when the last client goes", async () => {
    // Earlier tests' streams are gone: the service listens to nothing.
    assert.equal(await statusListeners(0), 0);
    await readEvents(`${svc.base}/events`, (evs) => evs.length > 0, {
      onOpen: () => assert.equal(queue.listenerCount("status"), 1),
    });
    assert.equal(await statusListeners(0), 0);
    assert.equal(queue.listenerCount("progress"), 0);
  });
});
