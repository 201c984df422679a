import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import "../../src/demo/tasks.js";
import { enqueue, pollJob, request, serviceForFile, startService } from "./harness.js";

const queue = getQueue("memory", { threads: 2 });
const svc = serviceForFile(queue, { processMetrics: true });

/** The value of one sample line, e.g. `rapidai_jobs{status="failed"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("GET /metrics", () => {
  test("exports job counts, run times, retries and failures in Prometheus text format", async () => {
    const ok = await enqueue(svc.base, "fib", [15]);
    const failing = await enqueue(svc.base, "fail", ["for metrics"]);
    const flaky = await enqueue(svc.base, "flaky", [1]);
    for (const id of [ok, failing, flaky]) await pollJob(svc.base, id);

    const a = await request(`${svc.base}/metrics`);
    assert.equal(a.status, 200);
    assert.match(a.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = a.text;
    const counts = (await request(`${svc.base}/api/stats`)).body.counts;
    for (const status of ["pending", "running", "completed", "failed", "cancelled"]) {
      assert.equal(sample(text, `rapidai_jobs{status="${status}"}`), counts[status], status);
    }
    assert.equal(sample(text, 'rapidai_jobs_enqueued_total{task="fib"}'), 1);
    assert.equal(sample(text, 'rapidai_jobs_completed_total{task="fib"}'), 1);
    assert.equal(sample(text, 'rapidai_jobs_completed_total{task="flaky"}'), 1);
    assert.equal(
      sample(text, 'rapidai_job_duration_seconds_count{task="fib",outcome="completed"}'),
      1,
    );
    assert.ok(
      (sample(text, 'rapidai_job_duration_seconds_sum{task="fib",outcome="completed"}') ?? -1) > 0,
    );
    assert.equal(sample(text, 'rapidai_job_retries_total{task="fail"}'), 2);
    assert.equal(sample(text, 'rapidai_job_retries_total{task="flaky"}'), 1);
    assert.equal(sample(text, 'rapidai_job_failures_total{task="fail"}'), 1);
    // Every failed attempt of `fail` (two retried, one final) has a run time.
    assert.equal(
      sample(text, 'rapidai_job_duration_seconds_count{task="fail",outcome="failed"}'),
      3,
    );
    assert.equal(sample(text, "rapidai_backend_up"), 1);
    assert.match(text, /^# TYPE rapidai_job_duration_seconds histogram$/m);
    assert.match(
      text,
      /^rapidai_job_duration_seconds_bucket\{le="0\.001",task="fib",outcome="completed"\} \d+$/m,
    );
    // Process metrics come along.
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
  });

  test("two services in one process keep separate registries", async () => {
    const other = await startService({ queue, processMetrics: true });
    try {
      const a = await request(`${other.base}/metrics`);
      assert.equal(a.status, 200);
      // The second service only counts what happened since it started.
      assert.equal(sample(a.text, 'rapidai_jobs_enqueued_total{task="fib"}'), undefined);
      assert.ok(sample(a.text, 'rapidai_jobs{status="completed"}')! >= 1);
    } finally {
      await other.close();
    }
  });
});
