import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import "../../src/demo/tasks.js";
import { chatty, flip, hold } from "./fixtures/ops-tasks.js";
import { enqueue, pollJob, request, serviceForFile } from "./harness.js";

const queue = getQueue("memory", { threads: 2 });
const svc = serviceForFile(queue);

const post = (path: string, body?: unknown) =>
  request(`${svc.base}${path}`, { method: "POST", ...(body === undefined ? {} : { body }) });

/** Waits for the job to reach `status` (through the API). */
const until = (id: string, status: string) => pollJob(svc.base, id, (j) => j.status === status);

describe("POST /jobs/:id/retry", () => {
  test("moves a failed job back to pending; it runs again and attempts keep counting", async () => {
    const id = await flip.enqueue(true);
    const failed = await until(id, "failed");
    assert.equal(failed.attempts, 1);
    const a = await post(`/jobs/${id}/retry`);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { job_id: id, status: "pending" });
    const again = await pollJob(svc.base, id, (j) => j.status === "failed" && j.attempts === 2);
    assert.equal(again.error, "flip failed on purpose");
  });

  test("retries a cancelled job", async () => {
    const id = await hold.enqueue(60_000);
    await until(id, "running");
    assert.equal((await request(`${svc.base}/jobs/${id}`, { method: "DELETE" })).status, 200);
    await until(id, "cancelled");
    assert.equal((await post(`/jobs/${id}/retry`)).status, 200);
    await until(id, "running");
    await request(`${svc.base}/jobs/${id}`, { method: "DELETE" });
    await until(id, "cancelled");
  });

  test("a completed job is a 409 saying why; an unknown one a 404", async () => {
    const id = await enqueue(svc.base, "fib", [5]);
    await until(id, "completed");
    const a = await post(`/jobs/${id}/retry`);
    assert.equal(a.status, 409);
    assert.equal(a.body.status, "completed");
    assert.match(a.body.error, /Cannot retry a completed job: only a failed or cancelled job/);
    assert.doesNotMatch(a.text, new RegExp(id));
    for (const unknown of ["no-such-job", "has%20space"]) {
      const b = await post(`/jobs/${unknown}/retry`);
      assert.equal(b.status, 404, unknown);
      assert.deepEqual(b.body, { error: "Job not found" });
    }
  });
});

describe("POST /jobs/:id/promote", () => {
  test("starts a delayed job now; its JSON showed when it was due", async () => {
    const a = await request(`${svc.base}/jobs/fib`, { body: { args: [6], delay_ms: 3_600_000 } });
    const id = a.body.job_id as string;
    const delayed = (await request(`${svc.base}/jobs/${id}`)).body;
    assert.equal(delayed.status, "pending");
    const due = Date.parse(delayed.run_at);
    assert.ok(due > Date.now() + 3_500_000, `run_at ${delayed.run_at}`);
    const listed = (await request(`${svc.base}/jobs?status=pending`)).body.jobs;
    assert.equal(listed.find((j: { job_id: string }) => j.job_id === id)?.run_at, delayed.run_at);
    const p = await post(`/jobs/${id}/promote`);
    assert.equal(p.status, 200);
    assert.deepEqual(p.body, { job_id: id, status: "pending" });
    const done = await until(id, "completed");
    assert.equal(done.result, 8);
    assert.equal(done.run_at, undefined);
    const after = (await request(`${svc.base}/jobs?status=completed`)).body.jobs;
    assert.equal(after.find((j: { job_id: string }) => j.job_id === id)?.run_at, undefined);
    const again = await post(`/jobs/${id}/promote`);
    assert.equal(again.status, 409);
    assert.match(again.body.error, /only a delayed pending job/);
    assert.equal((await post("/jobs/nope/promote")).status, 404);
  });
});

describe("DELETE /jobs/:id?remove=true", () => {
  test("deletes a finished job; a running one is a 409 and stays", async () => {
    const id = await enqueue(svc.base, "fib", [3]);
    await until(id, "completed");
    const a = await request(`${svc.base}/jobs/${id}?remove=true`, { method: "DELETE" });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { status: "removed" });
    assert.equal((await request(`${svc.base}/jobs/${id}`)).status, 404);

    const running = await hold.enqueue(60_000);
    await until(running, "running");
    const b = await request(`${svc.base}/jobs/${running}?remove=true`, { method: "DELETE" });
    assert.equal(b.status, 409);
    assert.match(b.body.error, /Cannot remove a running job/);
    assert.equal((await request(`${svc.base}/jobs/${running}`)).body.status, "running");
    // Without the flag, DELETE still cancels, as in the seed.
    assert.equal((await request(`${svc.base}/jobs/${running}`, { method: "DELETE" })).status, 200);
    await until(running, "cancelled");
  });

  test("an unknown job is a 404; a bad flag a 400 naming it", async () => {
    const a = await request(`${svc.base}/jobs/nope?remove=true`, { method: "DELETE" });
    assert.equal(a.status, 404);
    const b = await request(`${svc.base}/jobs/nope?remove=yes`, { method: "DELETE" });
    assert.equal(b.status, 400);
    assert.match(b.body.error, /`remove` must be true or false/);
  });
});

describe("GET /jobs/:id/logs", () => {
  test("returns the lines the job wrote, oldest first", async () => {
    const id = await chatty.enqueue(3);
    await until(id, "completed");
    const a = await request(`${svc.base}/jobs/${id}/logs`);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { job_id: id, logs: ["step 1 of 3", "step 2 of 3", "step 3 of 3"] });
    assert.equal((await request(`${svc.base}/jobs/nope/logs`)).status, 404);
  });
});

describe("the queue: pause, resume, counts, clean", () => {
  test("GET /queue shows the paused state and counts; pause holds new jobs until resume", async () => {
    const first = await request(`${svc.base}/queue`);
    assert.equal(first.status, 200);
    assert.equal(first.body.paused, false);
    assert.equal(first.body.backend, "memory");
    assert.deepEqual(Object.keys(first.body.counts).sort(), [
      "cancelled",
      "completed",
      "failed",
      "pending",
      "running",
    ]);
    assert.deepEqual((await post("/queue/pause")).body, { paused: true });
    assert.equal((await request(`${svc.base}/queue`)).body.paused, true);
    // Enqueue is still accepted while paused.
    const id = await enqueue(svc.base, "fib", [7]);
    assert.equal((await request(`${svc.base}/jobs/${id}`)).body.status, "pending");
    assert.deepEqual((await post("/queue/resume")).body, { paused: false });
    assert.equal((await until(id, "completed")).result, 13);
  });

  test("POST /queue/clean deletes finished jobs of a status and says how many", async () => {
    const ids = [await flip.enqueue(true), await flip.enqueue(true)];
    for (const id of ids) await until(id, "failed");
    const failedBefore = (await request(`${svc.base}/queue`)).body.counts.failed as number;
    const a = await post("/queue/clean", { status: "failed", limit: 1 });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { removed: 1 });
    const b = await post("/queue/clean", { status: "failed", older_than_ms: 0 });
    assert.deepEqual(b.body, { removed: failedBefore - 1 });
    for (const id of ids) assert.equal((await request(`${svc.base}/jobs/${id}`)).status, 404);
    const none = await post("/queue/clean", { status: "failed", older_than_ms: 3_600_000 });
    assert.deepEqual(none.body, { removed: 0 });
  });

  test("a bad clean body is a 400 naming the field, and nothing is deleted", async () => {
    const id = await enqueue(svc.base, "fib", [2]);
    await until(id, "completed");
    const cases: [unknown, RegExp][] = [
      [{}, /`status`/],
      [{ status: "running" }, /`status`/],
      [{ status: "completed", older_than_ms: -1 }, /`older_than_ms`/],
      [{ status: "completed", limit: 0 }, /`limit`/],
      [{ status: "completed", limit: 1.5 }, /`limit`/],
      [{ status: "completed", olderThanMs: 5 }, /unknown body field `olderThanMs`/],
      [[], /must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const a = await post("/queue/clean", body);
      assert.equal(a.status, 400, JSON.stringify(body));
      assert.equal(a.body.code, "ERR_INVALID_OPTION");
      assert.match(a.body.error, message);
    }
    const nul = await request(`${svc.base}/queue/clean`, {
      raw: "null",
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    assert.equal(nul.status, 400);
    const text = await request(`${svc.base}/queue/clean`, {
      raw: "completed",
      method: "POST",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(text.status, 415);
    assert.equal((await request(`${svc.base}/jobs/${id}`)).status, 200);
  });
});

describe("schedules and dependencies", () => {
  test("GET /schedules lists each schedule with its next run", async () => {
    await chatty.schedule("hourly-chat", { everyMs: 3_600_000 }, 1);
    await chatty.schedule("nightly-chat", { cron: "0 3 * * *", tz: "Europe/Berlin" }, 2);
    try {
      const a = await request(`${svc.base}/schedules`);
      assert.equal(a.status, 200);
      const byId = new Map(a.body.schedules.map((s: { id: string }) => [s.id, s]));
      const hourly = byId.get("hourly-chat") as Record<string, unknown>;
      assert.equal(hourly.task, "chatty");
      assert.equal(hourly.every_ms, 3_600_000);
      assert.ok(Date.parse(String(hourly.next_run_at)) > Date.now());
      const nightly = byId.get("nightly-chat") as Record<string, unknown>;
      assert.equal(nightly.cron, "0 3 * * *");
      assert.equal(nightly.tz, "Europe/Berlin");
      assert.equal(new Date(String(nightly.next_run_at)).getUTCMinutes(), 0);
    } finally {
      await queue.unschedule("hourly-chat");
      await queue.unschedule("nightly-chat");
    }
    const after = await request(`${svc.base}/schedules`);
    assert.deepEqual(
      after.body.schedules.filter((s: { id: string }) => s.id.endsWith("-chat")),
      [],
    );
  });

  test("GET /schedules names the job of the last firing", async () => {
    await chatty.schedule("fast-chat", { everyMs: 100 }, 1);
    try {
      const fresh = (await request(`${svc.base}/schedules`)).body.schedules.find(
        (s: { id: string }) => s.id === "fast-chat",
      );
      assert.equal(fresh.last_job_id, undefined);
      let fired: Record<string, unknown> | undefined;
      const deadline = Date.now() + 10_000;
      while (fired === undefined && Date.now() < deadline) {
        const list = (await request(`${svc.base}/schedules`)).body.schedules;
        fired = list.find(
          (s: { id: string; last_job_id?: string }) => s.id === "fast-chat" && s.last_job_id,
        );
        if (fired === undefined) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(fired, "the schedule never fired");
      assert.ok(Date.parse(String(fired.last_run_at)) <= Date.now());
      const job = (await request(`${svc.base}/jobs/${fired.last_job_id}`)).body;
      assert.equal(job.task, "chatty");
    } finally {
      await queue.unschedule("fast-chat");
    }
  });

  test("a job's JSON lists the jobs it depends on", async () => {
    const first = await enqueue(svc.base, "fib", [4]);
    const second = await enqueue(svc.base, "fib", [5]);
    const id = await chatty.enqueueWith({ dependsOn: [first, second] }, 1);
    const done = await until(id, "completed");
    assert.deepEqual(done.depends_on, [first, second]);
    const plain = (await request(`${svc.base}/jobs/${first}`)).body;
    assert.equal(plain.depends_on, undefined);
  });
});
