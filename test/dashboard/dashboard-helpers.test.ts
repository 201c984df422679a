/**
 * The dashboard's pure helpers (plain browser modules with no DOM at import
 * time), run in Node: argument parsing, progress, durations, metric sums.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

// Plain JavaScript beside the compiled service; loaded by URL so the
// TypeScript build does not look for their types.
const publicDir = new URL("../../src/service/dashboard/public/", import.meta.url);
const load = (name: string): Promise<any> => import(new URL(name, publicDir).href);

test("the enqueue form accepts a JSON array and explains anything else", async () => {
  const { parseArgs } = await load("enqueue-form.js");
  assert.deepEqual(parseArgs(' [25, "x", {"a": [1]}] '), { args: [25, "x", { a: [1] }] });
  assert.deepEqual(parseArgs(""), { args: [] });
  assert.match(parseArgs("[25,").error, /^Not valid JSON/);
  assert.match(parseArgs('{"n": 25}').error, /must be a JSON array/);
  assert.match(parseArgs("25").error, /must be a JSON array/);
});

test("progress reads as a fraction from 0..1, percentages and {done,total}", async () => {
  const { progressFraction } = await load("format.js");
  assert.equal(progressFraction(0.25), 0.25);
  assert.equal(progressFraction(40), 0.4);
  assert.equal(progressFraction({ done: 3, total: 4 }), 0.75);
  assert.equal(progressFraction({ current: 9, total: 3 }), 1);
  assert.equal(progressFraction({ percent: 50 }), 0.5);
  assert.equal(progressFraction("half"), undefined);
  assert.equal(progressFraction(250), undefined);
  assert.equal(progressFraction({ total: 0, done: 0 }), undefined);
});

test("durations read as ms, s, min and h", async () => {
  const { formatDuration, elapsed } = await load("format.js");
  assert.equal(formatDuration(850), "850 ms");
  assert.equal(formatDuration(4200), "4.20 s");
  assert.equal(formatDuration(42_000), "42.0 s");
  assert.equal(formatDuration(185_000), "3 min 05 s");
  assert.equal(formatDuration(7_620_000), "2 h 07 min");
  assert.equal(formatDuration(undefined), "—");
  assert.equal(elapsed("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.500Z"), 1500);
  assert.equal(elapsed(undefined, "2026-01-01T00:00:01.500Z"), undefined);
});

test("a Prometheus counter is summed over its labels, and only that counter", async () => {
  const { metricSum } = await load("throughput-chart.js");
  const text = [
    "# HELP rapidai_jobs_completed_total Jobs completed, by task.",
    "# TYPE rapidai_jobs_completed_total counter",
    'rapidai_jobs_completed_total{task="fib"} 24',
    'rapidai_jobs_completed_total{task="sleep"} 4',
    'rapidai_jobs_completed_total_other{task="x"} 1000',
    "rapidai_job_failures_total 2",
  ].join("\n");
  assert.equal(metricSum(text, "rapidai_jobs_completed_total"), 28);
  assert.equal(metricSum(text, "rapidai_job_failures_total"), 2);
  assert.equal(metricSum(text, "rapidai_job_retries_total"), undefined);
  // Declared, with no job counted yet: zero, not unknown.
  const declared = "# HELP x_total X.\n# TYPE x_total counter\n# TYPE x_total_other counter";
  assert.equal(metricSum(declared, "x_total"), 0);
});

test("times are on a 24-hour clock, with the date only when not today and the year only when not this year", async () => {
  const { formatTime, formatFullTime, formatRelative } = await load("format.js");
  const at = new Date(2026, 11, 1, 23, 3, 40, 38);
  const day = at.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  assert.equal(formatTime(at, new Date(2026, 11, 1, 23, 59)), "23:03:40");
  assert.equal(formatFullTime(at, new Date(2026, 11, 1, 23, 59)), "23:03:40.038");
  assert.equal(formatTime(at, new Date(2026, 11, 2, 0, 1)), `${day}, 23:03:40`);
  assert.equal(formatFullTime(at.toISOString(), new Date(2026, 11, 2)), `${day}, 23:03:40.038`);
  const yearDay = at.toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
    year: "numeric",
  });
  assert.equal(formatTime(at, new Date(2027, 0, 1)), `${yearDay}, 23:03:40`);
  assert.equal(formatTime(new Date(2026, 0, 1, 9, 5, 7), new Date(2026, 0, 1)), "09:05:07");
  assert.equal(formatTime(undefined), "—");
  assert.equal(formatRelative(at.getTime() + 4200, at.getTime()), "in 4.20 s");
  assert.equal(formatRelative(at.getTime() - 90_000, at.getTime()), "1 min 30 s ago");
  assert.equal(formatRelative(at.getTime(), at.getTime()), "now");
});

test("a failure rate reads as a percentage; nothing tried yet is a dash", async () => {
  const { formatRate } = await load("task-stats.js");
  assert.equal(formatRate(0), "0 %");
  assert.equal(formatRate(1), "100 %");
  assert.equal(formatRate(0.5), "50 %");
  assert.equal(formatRate(0.0345), "3.5 %");
  assert.equal(formatRate(null), "—");
});
