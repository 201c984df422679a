import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import { percentile } from "../../src/service/task-stats.js";
import "../../src/demo/tasks.js";
import { flip, hold } from "./fixtures/ops-tasks.js";
import { enqueue, pollJob, request, serviceForFile } from "./harness.js";

const queue = getQueue("memory", { threads: 2 });
const svc = serviceForFile(queue, { tasks: ["fib", "flip", "hold", "primes"] });

/** Runs one job to its end, so creation order is the order of these calls. */
async function finished(id: string | Promise<string>): Promise<string> {
  const jobId = await id;
  await pollJob(svc.base, jobId);
  return jobId;
}

const byTask = (answer: { tasks: { task: string }[] }) =>
  new Map(answer.tasks.map((t) => [t.task, t as Record<string, unknown>]));

describe("GET /api/tasks", () => {
  test("counts each task's finished jobs, its failure rate and its p50/p95 duration", async () => {
    await finished(flip.enqueue(true));
    for (const n of [10, 12, 14]) await finished(enqueue(svc.base, "fib", [n]));
    const held = await hold.enqueue(60_000);
    await pollJob(svc.base, held, (j) => j.status === "running");

    const a = await request(`${svc.base}/api/tasks`);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.window, { limit: 1000, since: null, jobs: 4 });
    const tasks = byTask(a.body);
    assert.deepEqual([...tasks.keys()], ["fib", "flip", "hold", "primes"]);
    const fib = tasks.get("fib")!;
    assert.equal(fib.completed, 3);
    assert.equal(fib.failed, 0);
    assert.equal(fib.failure_rate, 0);
    const durations = (await request(`${svc.base}/jobs?task=fib`)).body.jobs.map(
      (j: { job_id: string }) => j.job_id,
    );
    const seconds = await Promise.all(
      durations.map(async (id: string) => (await request(`${svc.base}/jobs/${id}`)).body.duration),
    );
    seconds.sort((x, y) => x - y);
    assert.equal(fib.duration_p50, seconds[1]);
    assert.equal(fib.duration_p95, seconds[2]);
    const failing = tasks.get("flip")!;
    assert.equal(failing.failed, 1);
    assert.equal(failing.failure_rate, 1);
    assert.equal(failing.duration_p50, null);
    assert.equal(tasks.get("hold")!.running, 1);
    // A task with no jobs yet is listed, with nothing to report.
    assert.deepEqual(tasks.get("primes"), {
      task: "primes",
      completed: 0,
      failed: 0,
      cancelled: 0,
      running: 0,
      failure_rate: null,
      duration_p50: null,
      duration_p95: null,
    });

    await request(`${svc.base}/jobs/${held}`, { method: "DELETE" });
    await pollJob(svc.base, held, (j) => j.status === "cancelled");
    const b = byTask((await request(`${svc.base}/api/tasks`)).body);
    assert.equal(b.get("hold")!.cancelled, 1);
    assert.equal(b.get("hold")!.running, 0);
    assert.equal(b.get("hold")!.failure_rate, null, "a cancelled job is not a failure");
  });

  test("with ?limit=, counts only the span every status was read over", async () => {
    // Newest first: the 2 newest completed fib jobs were created after the failed flip
    // job, so the window starts at the older of the two and leaves the failure out;
    // the cancelled hold job came later and counts.
    const a = (await request(`${svc.base}/api/tasks?limit=2`)).body;
    assert.equal(a.window.limit, 2);
    assert.equal(a.window.jobs, 3);
    assert.ok(Date.parse(a.window.since) > 0, a.window.since);
    const tasks = byTask(a);
    assert.equal(tasks.get("fib")!.completed, 2);
    assert.equal(tasks.get("flip")!.failed, 0);
    assert.equal(tasks.get("hold")!.cancelled, 1);
  });

  test("a bad limit is a 400 naming it", async () => {
    for (const limit of ["0", "10001", "ten"]) {
      const a = await request(`${svc.base}/api/tasks?limit=${limit}`);
      assert.equal(a.status, 400, limit);
      assert.match(a.body.error, /`limit` must be an integer from 1 to 10000/);
    }
  });
});

test("percentile is the nearest rank", () => {
  assert.equal(percentile([], 0.5), null);
  assert.equal(percentile([7], 0.95), 7);
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
  assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(hundred, 0.95), 95);
});
