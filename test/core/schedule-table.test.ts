import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listSchedules, scheduleJob, unscheduleJob } from "../../src/engine/schedule-api.js";
import { type ScheduledJob, Scheduler } from "../../src/engine/scheduler.js";
import { ErrorCode, JobError } from "../../src/errors.js";
import { ScheduleTable } from "../../src/memory/schedule-table.js";

const T0 = Date.parse("2024-06-01T00:00:00Z");

/** A clock the test moves by hand. */
function clock(start = T0) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = ms), add: (ms: number) => (t += ms) };
}

/** An enqueue that records each job and stores an id once, as an idempotent queue does. */
function recorder() {
  const stored = new Map<string, ScheduledJob>();
  const calls: ScheduledJob[] = [];
  return {
    stored,
    calls,
    enqueue: async (job: ScheduledJob) => {
      calls.push(job);
      if (!stored.has(job.jobId)) stored.set(job.jobId, job);
    },
  };
}

describe("memory schedules", () => {
  it("stores nothing when the id, spec or arguments are bad", async () => {
    const table = new ScheduleTable();
    const bad: [unknown, unknown, unknown[], string][] = [
      ["", { everyMs: 1000 }, [], ErrorCode.INVALID_OPTION],
      ["a", { everyMs: 0 }, [], ErrorCode.INVALID_OPTION],
      ["a", { cron: "nope" }, [], ErrorCode.INVALID_OPTION],
      ["a", { cron: "* * * * *", tz: "Nowhere/Land" }, [], ErrorCode.INVALID_OPTION],
      ["a", { everyMs: 1000 }, [() => 1], ErrorCode.ARGUMENT_NOT_CLONEABLE],
    ];
    for (const [id, spec, args, code] of bad) {
      await assert.rejects(
        scheduleJob(table, id, "report", spec, args),
        (e: unknown) => e instanceof JobError && e.code === code,
      );
    }
    assert.deepEqual(await table.list(), []);
  });

  it("lists schedules with their next run as a Date, and unschedules them", async () => {
    const table = new ScheduleTable();
    await scheduleJob(
      table,
      "nightly",
      "report",
      { cron: "0 3 * * *", tz: "Europe/Berlin" },
      ["x"],
      T0,
    );
    await scheduleJob(table, "beat", "ping", { everyMs: 5_000 }, [], T0);
    assert.deepEqual(await listSchedules(table), [
      { id: "beat", task: "ping", everyMs: 5_000, nextRunAt: new Date(T0 + 5_000) },
      {
        id: "nightly",
        task: "report",
        cron: "0 3 * * *",
        tz: "Europe/Berlin",
        nextRunAt: new Date("2024-06-01T01:00:00Z"),
      },
    ]);
    assert.equal(await unscheduleJob(table, "nightly"), true);
    assert.equal(await unscheduleJob(table, "nightly"), false);
    assert.equal(await unscheduleJob(table, ""), false);
    assert.deepEqual(
      (await listSchedules(table)).map((s) => s.id),
      ["beat"],
    );
  });

  it("keeps the next run when the same schedule is stored again, and takes a changed spec", async () => {
    const table = new ScheduleTable();
    await scheduleJob(table, "beat", "ping", { everyMs: 5_000 }, [1], T0);
    // Another process starts 3 s later and stores the same schedule.
    await scheduleJob(table, "beat", "ping", { everyMs: 5_000 }, [2], T0 + 3_000);
    let s = await table.get("beat");
    assert.equal(s?.nextRunAt, T0 + 5_000);
    assert.deepEqual(table.decodeArgs(s!.args), [2]);
    await scheduleJob(table, "beat", "ping", { everyMs: 10_000 }, [2], T0 + 3_000);
    s = await table.get("beat");
    assert.equal(s?.nextRunAt, T0 + 13_000);
  });

  it("fires a stretch of downtime once, then carries on from the first tick ahead", async () => {
    const table = new ScheduleTable();
    const c = clock();
    const r = recorder();
    await scheduleJob(table, "beat", "ping", { everyMs: 1_000 }, ["hi"], c.now());
    await scheduleJob(table, "minutely", "report", { cron: "* * * * *" }, [], c.now());
    const scheduler = new Scheduler(table, r.enqueue, { now: c.now });
    c.add(3_600_000 + 500); // an hour and a half second with nothing running
    await scheduler.tick();
    assert.deepEqual(
      r.calls.map((j) => [j.jobId, j.task]),
      [
        [`sched:beat:${T0 + 1_000}`, "ping"],
        [`sched:minutely:${T0 + 60_000}`, "report"],
      ],
    );
    assert.deepEqual(table.decodeArgs(r.calls[0]!.args), ["hi"]);
    assert.equal((await table.get("beat"))?.nextRunAt, T0 + 3_601_000);
    assert.equal((await table.get("minutely"))?.nextRunAt, T0 + 3_660_000);
    await scheduler.tick();
    assert.equal(r.calls.length, 2, "nothing more is due at the same time");
    c.add(500);
    await scheduler.tick();
    assert.deepEqual(r.calls.at(-1)?.jobId, `sched:beat:${T0 + 3_601_000}`);
    assert.deepEqual(
      await table.get("beat").then((s) => s?.lastJobId),
      `sched:beat:${T0 + 3_601_000}`,
    );
  });

  it("hands each tick to one of two schedulers that look at the same time", async () => {
    const table = new ScheduleTable();
    const c = clock();
    const r = recorder();
    await scheduleJob(table, "beat", "ping", { everyMs: 1_000 }, [], c.now());
    await scheduleJob(table, "secondly", "ping", { cron: "* * * * * *" }, [], c.now());
    const a = new Scheduler(table, r.enqueue, { now: c.now });
    const b = new Scheduler(table, r.enqueue, { now: c.now });
    for (let i = 1; i <= 60; i++) {
      c.set(T0 + i * 1_000 + (i % 7) * 10);
      await Promise.all([a.tick(), b.tick()]);
    }
    const ids = r.calls.map((j) => j.jobId);
    assert.equal(new Set(ids).size, ids.length, "no tick enqueued twice");
    for (const sched of ["beat", "secondly"]) {
      const ticks = r.calls.filter((j) => j.scheduleId === sched).map((j) => j.fireAt);
      assert.deepEqual(
        ticks,
        Array.from({ length: 60 }, (_, i) => T0 + (i + 1) * 1_000),
        `${sched}: every tick once, in order`,
      );
    }
  });

  it("hands a firing out again when its enqueue failed, under the same job id", async () => {
    const table = new ScheduleTable({ reclaimAfterMs: 10_000 });
    const c = clock();
    const r = recorder();
    const errors: unknown[] = [];
    let down = true;
    const enqueue = async (job: ScheduledJob) => {
      if (down) throw new Error("backend down");
      await r.enqueue(job);
    };
    await scheduleJob(table, "beat", "ping", { everyMs: 60_000 }, [], c.now());
    const scheduler = new Scheduler(table, enqueue, { now: c.now, onError: (e) => errors.push(e) });
    c.add(60_000);
    await scheduler.tick();
    assert.equal(errors.length, 1);
    assert.equal(r.calls.length, 0);
    assert.equal(await table.nextDueAt(), c.now() + 10_000, "the reclaim is the next thing due");
    down = false;
    c.add(5_000);
    await scheduler.tick();
    assert.equal(r.calls.length, 0, "not reclaimed before its time");
    c.add(5_000);
    await scheduler.tick();
    assert.deepEqual(
      r.calls.map((j) => j.jobId),
      [`sched:beat:${T0 + 60_000}`],
    );
    c.add(60_000);
    await scheduler.tick();
    assert.deepEqual(
      r.calls.map((j) => j.jobId),
      [`sched:beat:${T0 + 60_000}`, `sched:beat:${T0 + 120_000}`],
    );
  });

  it("drops a claimed firing whose schedule was removed before it was enqueued", async () => {
    const table = new ScheduleTable({ reclaimAfterMs: 1_000 });
    await scheduleJob(table, "beat", "ping", { everyMs: 1_000 }, [], T0);
    assert.equal((await table.claimDue(T0 + 1_000, 10)).length, 1);
    assert.equal(await unscheduleJob(table, "beat"), true);
    assert.deepEqual(await table.claimDue(T0 + 5_000, 10), []);
    assert.equal(await table.nextDueAt(), undefined);
  });

  it("fires on its own timer once started", async () => {
    const table = new ScheduleTable();
    const seen: ScheduledJob[] = [];
    let enough: () => void;
    const three = new Promise<void>((resolve) => (enough = resolve));
    const scheduler = new Scheduler(
      table,
      async (job) => {
        seen.push(job);
        if (seen.length === 3) enough();
      },
      { refreshMs: 1_000 },
    );
    await scheduleJob(table, "fast", "ping", { everyMs: 30 }, []);
    scheduler.start();
    // The scheduler's timer does not hold the process open (the queue's worker does).
    const keepAlive = setInterval(() => {}, 1_000);
    await three.finally(() => clearInterval(keepAlive));
    await scheduler.stop();
    const ticks = seen.map((j) => j.fireAt);
    for (let i = 1; i < ticks.length; i++) {
      assert.ok(ticks[i]! > ticks[i - 1]!);
      assert.equal((ticks[i]! - ticks[0]!) % 30, 0, "ticks stay on the 30 ms grid");
    }
  });
});
