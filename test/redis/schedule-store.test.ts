import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { listSchedules, scheduleJob, unscheduleJob } from "../../src/engine/schedule-api.js";
import type { Firing } from "../../src/engine/schedule-store.js";
import { ErrorCode, JobError } from "../../src/errors.js";
import { QueueKeys } from "../../src/redis/queue-keys.js";
import { RedisScheduleStore } from "../../src/redis/schedule-store.js";
import { ScriptRunner } from "../../src/redis/scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

const T0 = Date.parse("2024-06-01T00:00:00Z");

describeWithRedis("Redis schedules", () => {
  const fx = redisFixture();
  const clients: Redis[] = [];
  let n = 0;

  /** A store on its own connection, as another process would have. */
  function store(prefix: string, reclaimAfterMs?: number): RedisScheduleStore {
    const client = new Redis(fx.server.url, { maxRetriesPerRequest: 1 });
    clients.push(client);
    const options = reclaimAfterMs === undefined ? {} : { reclaimAfterMs };
    return new RedisScheduleStore(
      client,
      new QueueKeys(prefix),
      new ScriptRunner(client, prefix),
      options,
    );
  }
  const fresh = () => `sched${++n}:`;

  after(() => {
    for (const c of clients) c.disconnect();
  });

  describe("records", () => {
    it("round-trips a schedule with its arguments, lists and removes it", async () => {
      const s = store(fresh());
      const args = [{ when: new Date(T0), big: 12n, bytes: new Uint8Array([0, 255, 7]) }, "é"];
      await scheduleJob(
        s,
        "nightly",
        "report",
        { cron: "0 3 * * *", tz: "Europe/Berlin" },
        args,
        T0,
      );
      await scheduleJob(s, "beat", "ping", { everyMs: 5_000 }, [], T0);
      assert.deepEqual(await listSchedules(s), [
        { id: "beat", task: "ping", everyMs: 5_000, nextRunAt: new Date(T0 + 5_000) },
        {
          id: "nightly",
          task: "report",
          cron: "0 3 * * *",
          tz: "Europe/Berlin",
          nextRunAt: new Date("2024-06-01T01:00:00Z"),
        },
      ]);
      const nightly = await s.get("nightly");
      assert.deepEqual(s.decodeArgs(nightly!.args), args);
      assert.equal(await unscheduleJob(s, "nightly"), true);
      assert.equal(await unscheduleJob(s, "nightly"), false);
      assert.equal(await s.get("nightly"), undefined);
      assert.deepEqual(
        (await s.list()).map((r) => r.id),
        ["beat"],
      );
    });

    it("stores nothing for arguments that cannot be cloned", async () => {
      const prefix = fresh();
      const s = store(prefix);
      await assert.rejects(
        scheduleJob(s, "bad", "report", { everyMs: 1000 }, [Symbol("x")], T0),
        (e: unknown) => e instanceof JobError && e.code === ErrorCode.ARGUMENT_NOT_CLONEABLE,
      );
      assert.deepEqual(await fx.raw.keys(`${prefix}*`), []);
    });

    it("keeps the next run when every process stores the same schedule at start-up", async () => {
      const prefix = fresh();
      const [a, b] = [store(prefix), store(prefix)];
      await scheduleJob(a, "beat", "ping", { everyMs: 5_000 }, [1], T0);
      await scheduleJob(b, "beat", "ping", { everyMs: 5_000 }, [2], T0 + 3_000);
      let r = await a.get("beat");
      assert.equal(r?.nextRunAt, T0 + 5_000);
      assert.deepEqual(a.decodeArgs(r!.args), [2]);
      await scheduleJob(b, "beat", "ping", { everyMs: 10_000 }, [2], T0 + 3_000);
      r = await a.get("beat");
      assert.equal(r?.nextRunAt, T0 + 13_000);
    });

    it("announces a new or removed schedule on the control channel", async () => {
      const prefix = fresh();
      const s = store(prefix);
      const sub = new Redis(fx.server.url);
      clients.push(sub);
      await sub.subscribe(new QueueKeys(prefix).control);
      const got: string[] = [];
      const two = new Promise<void>((resolve) =>
        sub.on("message", (_channel, message: string) => {
          got.push(message);
          if (got.length === 2) resolve();
        }),
      );
      await scheduleJob(s, "beat", "ping", { everyMs: 5_000 }, [], T0);
      await unscheduleJob(s, "beat");
      await two;
      assert.deepEqual(got, ["s", "s"]);
    });
  });

  describe("claims", () => {
    it("fires a stretch of downtime once, and moves the next run past now", async () => {
      const s = store(fresh());
      await scheduleJob(s, "beat", "ping", { everyMs: 1_000 }, [], T0);
      await scheduleJob(s, "minutely", "report", { cron: "* * * * *" }, [], T0);
      const now = T0 + 3_600_000 + 500;
      const firings = await s.claimDue(now, 100);
      assert.deepEqual(
        firings.map((f) => [f.jobId, f.schedule.nextRunAt]),
        [
          [`sched:beat:${T0 + 1_000}`, T0 + 3_601_000],
          [`sched:minutely:${T0 + 60_000}`, T0 + 3_660_000],
        ],
      );
      assert.deepEqual(await s.claimDue(now, 100), []);
      assert.equal(await s.nextDueAt(), T0 + 3_601_000);
    });

    it("hands each tick to exactly one of three stores claiming at the same time", async () => {
      const prefix = fresh();
      const stores = [store(prefix), store(prefix), store(prefix)];
      await scheduleJob(stores[0]!, "beat", "ping", { everyMs: 1_000 }, [], T0);
      await scheduleJob(stores[1]!, "secondly", "ping", { cron: "* * * * * *" }, [], T0);
      const log: { by: number; firing: Firing }[] = [];
      for (let i = 1; i <= 60; i++) {
        const now = T0 + i * 1_000 + (i % 5) * 100;
        const claimed = await Promise.all(stores.map((s) => s.claimDue(now, 10)));
        const round = claimed.flatMap((firings, by) => firings.map((firing) => ({ by, firing })));
        log.push(...round);
        await Promise.all(round.map(({ by, firing }) => stores[by]!.ack(firing)));
      }
      const ids = log.map((l) => l.firing.jobId);
      assert.equal(new Set(ids).size, ids.length, "no tick handed out twice");
      for (const sched of ["beat", "secondly"]) {
        const ticks = log.filter((l) => l.firing.schedule.id === sched).map((l) => l.firing.fireAt);
        assert.deepEqual(
          ticks,
          Array.from({ length: 60 }, (_, i) => T0 + (i + 1) * 1_000),
          `${sched}: every tick once`,
        );
      }
      const last = await stores[2]!.get("beat");
      assert.equal(last?.lastJobId, `sched:beat:${T0 + 60_000}`);
      assert.equal(last?.lastRunAt, T0 + 60_000);
      assert.equal(await fx.raw.zcard(new QueueKeys(prefix).scheduleFirings), 0);
    });

    it("hands a firing its claimer never acked to one other store, after the reclaim time", async () => {
      const prefix = fresh();
      const [a, b, c] = [store(prefix, 10_000), store(prefix, 10_000), store(prefix, 10_000)];
      await scheduleJob(a, "beat", "ping", { everyMs: 60_000 }, [], T0);
      const [lost] = await a.claimDue(T0 + 60_000, 10);
      assert.equal(lost?.jobId, `sched:beat:${T0 + 60_000}`);
      // a "dies" before it enqueued the job.
      assert.deepEqual(await b.claimDue(T0 + 65_000, 10), []);
      assert.equal(await b.nextDueAt(), T0 + 70_000);
      const again = await Promise.all([b.claimDue(T0 + 70_000, 10), c.claimDue(T0 + 70_000, 10)]);
      const won = again.flat();
      assert.deepEqual(
        won.map((f) => f.jobId),
        [lost.jobId],
        "handed out again, once",
      );
      await (again[0]!.length ? b : c).ack(won[0]!);
      assert.equal((await a.get("beat"))?.lastJobId, lost.jobId);
      assert.deepEqual(await c.claimDue(T0 + 100_000, 10), []);
    });

    it("drops a firing in flight whose schedule was removed", async () => {
      const prefix = fresh();
      const s = store(prefix, 1_000);
      await scheduleJob(s, "beat", "ping", { everyMs: 1_000 }, [], T0);
      assert.equal((await s.claimDue(T0 + 1_000, 10)).length, 1);
      await unscheduleJob(s, "beat");
      assert.deepEqual(await s.claimDue(T0 + 5_000, 10), []);
      assert.equal(await s.nextDueAt(), undefined);
      assert.deepEqual(await fx.raw.keys(`${prefix}*`), []);
    });
  });
});
