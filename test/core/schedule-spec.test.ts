import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  firingJobId,
  nextTick,
  parseFiringJobId,
  parseScheduleSpec,
  validateScheduleId,
} from "../../src/engine/schedule-spec.js";
import { ErrorCode, JobError } from "../../src/errors.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

function rejects(value: unknown, option: RegExp): void {
  assert.throws(
    () => parseScheduleSpec(value),
    (e: unknown) =>
      e instanceof JobError && e.code === ErrorCode.INVALID_OPTION && option.test(e.message),
  );
}

describe("schedule specs", () => {
  it("accepts a cron with or without a time zone, and an interval", () => {
    assert.deepEqual(parseScheduleSpec({ cron: "0 3 * * *", tz: "Europe/Berlin" }), {
      cron: "0 3 * * *",
      tz: "Europe/Berlin",
    });
    assert.deepEqual(parseScheduleSpec({ cron: "*/5 * * * * *" }), { cron: "*/5 * * * * *" });
    assert.deepEqual(parseScheduleSpec({ everyMs: 5_000 }), { everyMs: 5_000 });
  });

  it("rejects a bad spec with ERR_INVALID_OPTION naming the option", () => {
    rejects({ cron: "61 * * * *" }, /`cron`.*not a valid cron expression/);
    rejects({ cron: "every day" }, /`cron`/);
    rejects({ cron: "" }, /`cron`/);
    rejects({ cron: "0 0 30 2 *" }, /`cron`.*never fires/);
    rejects({ cron: "0 3 * * *", tz: "Mars/Olympus_Mons" }, /`tz`/);
    rejects({ cron: "0 3 * * *", tz: 7 }, /`tz`/);
    rejects({ everyMs: 0 }, /`everyMs`/);
    rejects({ everyMs: -5 }, /`everyMs`/);
    rejects({ everyMs: 1.5 }, /`everyMs`/);
    rejects({ everyMs: "1000" }, /`everyMs`/);
    rejects({ everyMs: 1000, tz: "UTC" }, /`tz`/);
    rejects(
      { cron: "* * * * *", everyMs: 1000 },
      /exactly one of `cron` and `everyMs` \(got both\)/,
    );
    rejects({}, /exactly one of `cron` and `everyMs` \(got neither\)/);
    rejects(undefined, /cron/);
    rejects({ cron: "* * * * *", timezone: "UTC" }, /unknown option `timezone`/);
  });

  it("rejects an empty, overlong or malformed schedule id", () => {
    for (const bad of ["", "x".repeat(151), "has space", "a/b", 42, undefined]) {
      assert.throws(
        () => validateScheduleId(bad),
        (e: unknown) =>
          e instanceof JobError && e.code === ErrorCode.INVALID_OPTION && /`id`/.test(e.message),
      );
    }
    assert.equal(validateScheduleId("x".repeat(150)), "x".repeat(150));
  });

  it("names each firing's job by schedule id and tick, and reads it back", () => {
    const id = firingJobId("nightly:report", 1_717_000_000_000);
    assert.equal(id, "sched:nightly:report:1717000000000");
    assert.deepEqual(parseFiringJobId(id), {
      scheduleId: "nightly:report",
      fireAt: 1_717_000_000_000,
    });
    assert.equal(parseFiringJobId("plain-job"), undefined);
  });
});

describe("next tick", () => {
  it("reads a cron without tz in UTC, strictly after now", () => {
    const spec = { cron: "0 3 * * *" };
    assert.equal(iso(nextTick(spec, at("2024-01-01T02:59:59.999Z"))), "2024-01-01T03:00:00.000Z");
    assert.equal(iso(nextTick(spec, at("2024-01-01T03:00:00.000Z"))), "2024-01-02T03:00:00.000Z");
  });

  it("follows the time zone across daylight saving time", () => {
    const spec = { cron: "0 3 * * *", tz: "Europe/Berlin" };
    // 03:00 in Berlin is 02:00 UTC in winter and 01:00 UTC in summer (from 31 March 2024).
    assert.equal(iso(nextTick(spec, at("2024-03-29T12:00:00Z"))), "2024-03-30T02:00:00.000Z");
    assert.equal(iso(nextTick(spec, at("2024-03-30T12:00:00Z"))), "2024-03-31T01:00:00.000Z");
    assert.equal(iso(nextTick(spec, at("2024-10-27T12:00:00Z"))), "2024-10-28T02:00:00.000Z");
    const ny = { cron: "30 8 * * 1-5", tz: "America/New_York" };
    assert.equal(iso(nextTick(ny, at("2024-03-08T20:00:00Z"))), "2024-03-11T12:30:00.000Z");
    assert.equal(iso(nextTick(ny, at("2024-03-07T20:00:00Z"))), "2024-03-08T13:30:00.000Z");
  });

  it("fires a fixed time once when DST skips or repeats it", () => {
    const spec = { cron: "30 2 * * *", tz: "Europe/Berlin" };
    // 31 March 2024: 02:30 does not exist in Berlin; it fires at the first time after the gap.
    assert.equal(iso(nextTick(spec, at("2024-03-30T12:00:00Z"))), "2024-03-31T01:00:00.000Z");
    // 27 October 2024: 02:30 happens twice; it fires on the first only.
    const first = nextTick(spec, at("2024-10-26T12:00:00Z"));
    assert.equal(iso(first), "2024-10-27T00:30:00.000Z");
    assert.equal(iso(nextTick(spec, first)), "2024-10-28T01:30:00.000Z");
  });

  it("keeps an every-30-minutes cron 30 real minutes apart through the repeated hour", () => {
    const spec = { cron: "*/30 * * * *", tz: "Europe/Berlin" };
    const ticks: string[] = [];
    let t = at("2024-10-26T23:45:00Z");
    for (let i = 0; i < 5; i++) ticks.push(iso((t = nextTick(spec, t))));
    assert.deepEqual(ticks, [
      "2024-10-27T00:00:00.000Z",
      "2024-10-27T00:30:00.000Z",
      "2024-10-27T01:00:00.000Z",
      "2024-10-27T01:30:00.000Z",
      "2024-10-27T02:00:00.000Z",
    ]);
  });

  it("keeps an interval on the grid of its previous tick, skipping the ticks it missed", () => {
    const spec = { everyMs: 1_000 };
    assert.equal(nextTick(spec, 10_000), 11_000);
    // Due at 11 000, looked at 250 ms late: the next tick stays on the grid.
    assert.equal(nextTick(spec, 11_250, 11_000), 12_000);
    // Nothing ran from 11 000 to 20 500: the next tick is the first still ahead.
    assert.equal(nextTick(spec, 20_500, 11_000), 21_000);
    assert.equal(nextTick(spec, 21_000, 11_000), 22_000);
  });
});
