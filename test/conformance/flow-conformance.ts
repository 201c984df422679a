/**
 * Scheduling and flow control (DESIGN.md section 7), the same on every
 * store: interval and cron schedules, per-task concurrency and rate limits,
 * and job dependencies.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { ErrorCode, type JobQueue, type JobResult } from "rapidai/background";
import { collect, type Span } from "../fixtures/conformance-ops-tasks.js";
import { echo } from "../fixtures/conformance-tasks.js";
import { until } from "../support/until.js";
import { type Backend, code, finished, holds, journal, queues } from "./case-support.js";

const id = () => randomUUID();

/** The most spans that overlap at one instant (an end at t comes before a start at t). */
function mostAtOnce(spans: Span[]): number {
  const edges = spans.flatMap((s) => [
    [s.start, 1],
    [s.end, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) {
    now += d!;
    most = Math.max(most, now);
  }
  return most;
}

/** Ids of the jobs a schedule enqueued, with the tick each stands for. */
async function firings(q: JobQueue, scheduleId: string): Promise<{ jobId: string; at: number }[]> {
  const prefix = `sched:${scheduleId}:`;
  return (await q.listJobs())
    .filter((r) => r.jobId.startsWith(prefix))
    .map((r) => ({ jobId: r.jobId, at: Number(r.jobId.slice(prefix.length)) }));
}

export function flowConformance(backend: Backend): void {
  describe(`flow conformance: ${backend.name}`, () => {
    const { open } = queues(backend);

    it("schedule({ everyMs }) fires jobs on a running queue; unschedule stops it", async () => {
      const q = await open({ asDefault: true });
      await q.start();
      const sid = `hb-${id()}`;
      await echo.schedule(sid, { everyMs: 200 }, "tick");
      const listed = (await q.listSchedules()).find((s) => s.id === sid);
      assert.ok(listed, "listed");
      assert.equal(listed.task, "conf.echo");
      assert.equal(listed.everyMs, 200);
      assert.equal(listed.cron, undefined);
      assert.ok(listed.nextRunAt instanceof Date);
      const fired = await until("two firings", async () => {
        const f = await firings(q, sid);
        return f.length >= 2 && f;
      });
      for (const f of fired) {
        assert.ok(
          Number.isInteger(f.at) && f.at > Date.now() - 60_000,
          `a tick time in ${f.jobId}`,
        );
        assert.equal((await finished(q, f.jobId)).result, "tick");
      }
      assert.equal(new Set(fired.map((f) => f.at)).size, fired.length, "one job per tick");
      assert.equal(await q.unschedule(sid), true);
      assert.equal(await q.unschedule(sid), false);
      assert.equal(
        (await q.listSchedules()).find((s) => s.id === sid),
        undefined,
      );
      const left = (await firings(q, sid)).length;
      // A tick claimed just before unschedule may still land; three more would not.
      await holds("no more firings", async () => (await firings(q, sid)).length <= left + 1, 700);
    });

    it("schedule({ cron }) with seconds fires on the second; listSchedules shows its next run", async () => {
      const q = await open({ asDefault: true });
      await q.start();
      const sid = `cron-${id()}`;
      await echo.schedule(sid, { cron: "* * * * * *" }, "sec");
      const listed = (await q.listSchedules()).find((s) => s.id === sid)!;
      assert.equal(listed.cron, "* * * * * *");
      assert.equal(listed.everyMs, undefined);
      assert.ok(listed.nextRunAt.getTime() % 1000 === 0, "on a whole second");
      assert.ok(listed.nextRunAt.getTime() <= Date.now() + 1500);
      const [first] = await until("a firing", async () => {
        const f = await firings(q, sid);
        return f.length >= 1 && f;
      });
      assert.equal(first!.at % 1000, 0, "its job id names a whole second");
      assert.equal((await finished(q, first!.jobId)).result, "sec");
      assert.equal(await q.unschedule(sid), true);
    });

    it("schedule({ cron, tz }) lists the zone and the next run in that zone", async () => {
      const q = await open({ asDefault: true });
      const sid = `nightly-${id()}`;
      await echo.schedule(sid, { cron: "0 3 * * *", tz: "Europe/Berlin" }, "report");
      const [listed] = (await q.listSchedules()).filter((s) => s.id === sid);
      assert.deepEqual(
        { ...listed, nextRunAt: undefined },
        {
          id: sid,
          task: "conf.echo",
          cron: "0 3 * * *",
          tz: "Europe/Berlin",
          nextRunAt: undefined,
        },
      );
      const next = listed!.nextRunAt;
      assert.ok(next instanceof Date && next.getTime() > Date.now());
      assert.ok(next.getTime() - Date.now() <= 25 * 3_600_000);
      const berlin = new Intl.DateTimeFormat("en-GB", {
        timeZone: "Europe/Berlin",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      }).format(next);
      assert.equal(berlin, "03:00");
      assert.equal(await q.unschedule(sid), true);
    });

    it("background({ concurrency: 2 }) never runs more than two of the task at once", async () => {
      const q = await open({ threads: 4 });
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push(await q.enqueue(id(), "confops.pair", [150]));
      const results = await Promise.all(ids.map((jobId) => finished(q, jobId)));
      for (const r of results) assert.equal(r.status, "completed", r.error);
      const spans = results.map((r) => r.result as Span);
      assert.equal(mostAtOnce(spans), 2, "two at once, never three");
    });

    it("background({ rateLimit: { max: 3, intervalMs: 1000 } }) starts at most 3 per second; none fails", async () => {
      const q = await open({ threads: 2 });
      const ids = [];
      for (let i = 0; i < 7; i++) ids.push(await q.enqueue(id(), "confops.rated", [i]));
      const results = await Promise.all(ids.map((jobId) => finished(q, jobId)));
      for (const r of results) assert.equal(r.status, "completed", r.error);
      const starts = results.map((r) => r.startedAt!.getTime()).sort((a, b) => a - b);
      for (let i = 0; i + 3 < starts.length; i++)
        assert.ok(
          starts[i + 3]! - starts[i]! >= 1000,
          `a 4th start within 1 s: ${starts.join(", ")}`,
        );
    });

    it("enqueueWith({ dependsOn }) waits for both, and dependencies() gives their results", async () => {
      const q = await open({ asDefault: true, threads: 2 });
      const a = await q.enqueue(id(), "conf.add", [1, 2], { delayMs: 300 });
      const b = await q.enqueue(id(), "conf.add", [3, 4], { delayMs: 150 });
      const c = await collect.enqueueWith({ dependsOn: [a, b] }, "c");
      assert.equal((await q.getResult(c))?.status, "pending");
      const [ra, rb, rc] = await Promise.all([a, b, c].map((jobId) => finished(q, jobId)));
      assert.equal(rc!.status, "completed", rc!.error);
      assert.deepEqual(rc!.result, { tag: "c", deps: { [a]: 3, [b]: 7 } });
      const last = Math.max(ra!.completedAt!.getTime(), rb!.completedAt!.getTime());
      assert.ok(rc!.startedAt!.getTime() >= last, "it started after both completed");
    });

    it("a failed or cancelled dependency fails the dependent with ERR_DEPENDENCY_FAILED, never run", async () => {
      const q = await open();
      const j = journal(q);
      const bad = await q.enqueue(id(), "conf.fail", ["no"], { maxRetries: 0 });
      const held = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000 });
      const onBad = await q.enqueue(id(), "confops.collect", ["x"], { dependsOn: [bad] });
      const onHeld = await q.enqueue(id(), "confops.collect", ["y"], { dependsOn: [held] });
      await q.cancel(held);
      for (const jobId of [onBad, onHeld]) {
        const r: JobResult = await finished(q, jobId);
        assert.equal(r.status, "failed");
        assert.equal(r.errorCode, ErrorCode.DEPENDENCY_FAILED);
        assert.equal(r.attempts, 0);
        assert.equal(r.startedAt, undefined);
      }
      await until("failed events", () => j.named("failed", onHeld).length === 1);
      assert.equal(j.named("started", onBad).length + j.named("started", onHeld).length, 0);
    });

    it("dependsOn an unknown job is a coded error at enqueue, and nothing is stored", async () => {
      const q = await open();
      const known = await q.enqueue(id(), "conf.add", [1, 1], { delayMs: 60_000 });
      const jobId = id();
      const error = await q
        .enqueue(jobId, "confops.collect", ["z"], { dependsOn: [known, "no-such-job"] })
        .catch((e: unknown) => e);
      assert.equal(code(error), ErrorCode.DEPENDENCY_NOT_FOUND);
      assert.match((error as Error).message, /no-such-job/);
      assert.equal(await q.getResult(jobId), undefined);
      assert.equal((await q.listJobs()).length, 1);
    });

    it("a chain a -> b -> c runs in order, each seeing the one before", async () => {
      const q = await open();
      const a = await q.enqueue(id(), "confops.collect", ["a"]);
      const b = await q.enqueue(id(), "confops.collect", ["b"], { dependsOn: [a] });
      const c = await q.enqueue(id(), "confops.collect", ["c"], { dependsOn: [b] });
      const [ra, rb, rc] = await Promise.all([a, b, c].map((jobId) => finished(q, jobId)));
      assert.deepEqual(rc!.result, {
        tag: "c",
        deps: { [b]: { tag: "b", deps: { [a]: { tag: "a", deps: {} } } } },
      });
      assert.ok(rb!.startedAt!.getTime() >= ra!.completedAt!.getTime());
      assert.ok(rc!.startedAt!.getTime() >= rb!.completedAt!.getTime());
    });
  });
}
