import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import "../../src/demo/tasks.js";
import { enqueue, pollJob, request, serviceForFile } from "./harness.js";

const queue = getQueue("memory", { threads: 2 });
const svc = serviceForFile(queue);

describe("POST /jobs/:task", () => {
  test("answers 202 with the seed's job_id, status and check_url", async () => {
    const a = await request(`${svc.base}/jobs/fib`, { body: { args: [10] } });
    assert.equal(a.status, 202);
    assert.deepEqual(Object.keys(a.body).sort(), ["check_url", "job_id", "status"]);
    assert.equal(a.body.status, "queued");
    assert.equal(a.body.check_url, `/jobs/${a.body.job_id}`);
  });

  test("takes the job id from job_id and is idempotent on it", async () => {
    const first = await request(`${svc.base}/jobs/fib`, {
      body: { args: [5], job_id: "order-17" },
    });
    const again = await request(`${svc.base}/jobs/fib`, {
      body: { args: [6], job_id: "order-17" },
    });
    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    assert.equal(again.body.job_id, "order-17");
    const job = await pollJob(svc.base, "order-17");
    assert.equal(job.result, 5);
  });

  test("runs a task with no arguments when the body is empty", async () => {
    const res = await fetch(`${svc.base}/jobs/primes`, { method: "POST" });
    assert.equal(res.status, 202);
    const { job_id } = (await res.json()) as { job_id: string };
    // primes() with no limit fails inside the task: it was enqueued with no arguments.
    const job = await pollJob(svc.base, job_id);
    assert.equal(job.status, "failed");
    assert.deepEqual(job.args, []);
  });
});

describe("GET /jobs/:id", () => {
  test("shows a completed job with the seed's fields and the dashboard's", async () => {
    const id = await enqueue(svc.base, "fib", [20]);
    const job = await pollJob(svc.base, id);
    assert.equal(job.job_id, id);
    assert.equal(job.status, "completed");
    assert.equal(job.result, 6765);
    assert.equal(job.task, "fib");
    assert.deepEqual(job.args, [20]);
    assert.equal(job.attempts, 1);
    assert.equal(job.max_retries, 0);
    for (const key of ["created_at", "started_at", "completed_at"]) {
      assert.ok(!Number.isNaN(Date.parse(job[key])), `${key} is an ISO date: ${job[key]}`);
    }
    assert.equal(typeof job.duration, "number");
    assert.ok(job.duration >= 0);
    assert.equal("error" in job, false);
  });

  test("shows a failed job's error and code, and no result", async () => {
    const id = await enqueue(svc.base, "fib", [99]);
    const job = await pollJob(svc.base, id);
    assert.equal(job.status, "failed");
    assert.match(job.error, /n must be an integer from 0 to 45/);
    assert.equal(job.error_code, "ERR_INVALID_OPTION");
    // The message alone; the error's name heads its stack.
    assert.equal(job.error.startsWith("JobError"), false);
    assert.equal("error_stack" in job, false, "no stack unless asked");
    const withStack = await request(`${svc.base}/jobs/${id}?include=stack`);
    assert.match(
      withStack.body.error_stack,
      /^JobError: n must be an integer from 0 to 45.*\n\s+at /,
    );
    assert.equal("result" in job, false);
    assert.ok(typeof job.completed_at === "string");
  });

  test("shows a pending or running job without completed_at, duration or result", async () => {
    const id = await enqueue(svc.base, "sleep", [400]);
    const job = await pollJob(
      svc.base,
      id,
      (j) => j.status === "running" && j.progress !== undefined,
    );
    assert.equal("completed_at" in job, false);
    assert.equal("duration" in job, false);
    assert.equal("result" in job, false);
    assert.ok(job.progress > 0 && job.progress <= 1);
    await pollJob(svc.base, id);
  });

  test("answers 404 with the seed's message for an unknown id, and for an id no job can have", async () => {
    for (const id of ["no-such-job", "bad%20id", "x".repeat(201)]) {
      const a = await request(`${svc.base}/jobs/${id}`);
      assert.equal(a.status, 404, id);
      assert.deepEqual(a.body, { error: "Job not found" });
    }
  });
});

describe("DELETE /jobs/:id", () => {
  test("cancels a running job, and then cannot cancel it again", async () => {
    const id = await enqueue(svc.base, "sleep", [10_000]);
    await pollJob(svc.base, id, (j) => j.status === "running");
    const a = await request(`${svc.base}/jobs/${id}`, { method: "DELETE" });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { status: "cancelled" });
    const job = await pollJob(svc.base, id);
    assert.equal(job.status, "cancelled");
    const again = await request(`${svc.base}/jobs/${id}`, { method: "DELETE" });
    assert.equal(again.status, 400);
    assert.deepEqual(again.body, { error: "Cannot cancel job" });
  });

  test("cancels a delayed pending job before it runs", async () => {
    const a = await request(`${svc.base}/jobs/fib`, { body: { args: [3], delay_ms: 60_000 } });
    const id = a.body.job_id;
    assert.equal((await request(`${svc.base}/jobs/${id}`)).body.status, "pending");
    const del = await request(`${svc.base}/jobs/${id}`, { method: "DELETE" });
    assert.equal(del.status, 200);
    const job = (await request(`${svc.base}/jobs/${id}`)).body;
    assert.equal(job.status, "cancelled");
    assert.equal(job.attempts, 0);
    // It never ran: no duration (its time in the queue is completed_at - created_at).
    assert.equal(job.duration, null);
    assert.equal(typeof job.completed_at, "string");
  });

  test("answers 400 for an unknown job and for a finished one", async () => {
    const unknown = await request(`${svc.base}/jobs/never-was`, { method: "DELETE" });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body, { error: "Cannot cancel job" });
    const id = await enqueue(svc.base, "fib", [1]);
    await pollJob(svc.base, id);
    const done = await request(`${svc.base}/jobs/${id}`, { method: "DELETE" });
    assert.equal(done.status, 400);
  });
});

describe("GET /jobs", () => {
  test("lists jobs newest first, with the seed's keys and the table's", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await enqueue(svc.base, "fib", [i]));
    for (const id of ids) await pollJob(svc.base, id);
    const a = await request(`${svc.base}/jobs?task=fib&limit=3`);
    assert.equal(a.status, 200);
    assert.deepEqual(
      a.body.jobs.map((j: any) => j.job_id),
      [...ids].reverse(),
    );
    const row = a.body.jobs[0];
    assert.deepEqual(Object.keys(row).sort(), [
      "attempts",
      "completed_at",
      "created_at",
      "job_id",
      "started_at",
      "status",
      "task",
    ]);
    assert.equal(row.task, "fib");
    assert.equal(row.status, "completed");
  });

  test("filters by status and reports the total for that status from countJobs", async () => {
    const id = await enqueue(svc.base, "fib", [99]);
    await pollJob(svc.base, id);
    const a = await request(`${svc.base}/jobs?status=failed`);
    assert.equal(a.status, 200);
    assert.ok(a.body.jobs.length >= 1);
    assert.ok(a.body.jobs.every((j: any) => j.status === "failed"));
    const stats = await request(`${svc.base}/api/stats`);
    assert.equal(a.body.total, stats.body.counts.failed);
  });

  test("pages with limit and offset", async () => {
    const all = await request(`${svc.base}/jobs?limit=500`);
    assert.ok(all.body.jobs.length >= 4);
    assert.equal(all.body.total, all.body.jobs.length);
    const page = await request(`${svc.base}/jobs?limit=2&offset=1`);
    assert.deepEqual(
      page.body.jobs.map((j: any) => j.job_id),
      all.body.jobs.slice(1, 3).map((j: any) => j.job_id),
    );
  });

  test("treats an empty status as no filter, as the seed does", async () => {
    const a = await request(`${svc.base}/jobs?status=`);
    assert.equal(a.status, 200);
  });

  test("answers 400 for an unknown status, naming the allowed ones", async () => {
    for (const q of ["status=done", "status=Pending", "status=pending&status=failed"]) {
      const a = await request(`${svc.base}/jobs?${q}`);
      assert.equal(a.status, 400, q);
      assert.equal(a.body.code, "ERR_INVALID_STATUS");
      assert.match(a.body.error, /pending, running, completed, failed, cancelled/);
    }
  });

  test("answers 400 for a limit or offset out of range", async () => {
    for (const q of ["limit=501", "limit=-1", "limit=ten", "offset=1.5"]) {
      const a = await request(`${svc.base}/jobs?${q}`);
      assert.equal(a.status, 400, q);
      assert.equal(a.body.code, "ERR_INVALID_OPTION");
    }
  });
});

describe("GET /api/stats", () => {
  test("gives counts by status, the accepted tasks and the backend", async () => {
    const a = await request(`${svc.base}/api/stats`);
    assert.equal(a.status, 200);
    assert.deepEqual(Object.keys(a.body.counts).sort(), [
      "cancelled",
      "completed",
      "failed",
      "pending",
      "running",
    ]);
    assert.deepEqual(a.body.tasks, ["fail", "fib", "flaky", "primes", "sleep"]);
    assert.equal(a.body.backend, "memory");
  });
});
