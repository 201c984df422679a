/**
 * The schedule-churn checker must be able to fail: fed a doubled, a missed
 * and an off-grid tick, and starts over the limit, it says so.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyTicks, downtime, missBound, mostInWindow } from "./schedule-checks.js";

describe("schedule-churn checks", () => {
  it("finds the stretches without a worker and the ticks they excuse", () => {
    const lives = [
      { pid: 1, readyAt: 0, endedAt: 3_000 },
      { pid: 2, readyAt: 2_000, endedAt: 4_000 },
      { pid: 3, readyAt: 6_500, endedAt: 10_000 },
    ];
    assert.deepEqual(downtime(lives, 0, 10_000), [[4_000, 6_500]]);
    const ticks = [1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000];
    // 4 000, 5 000 and 6 000 fell in the gap: the first fires late, two may be missed.
    assert.equal(missBound([[4_000, 6_500]], ticks), 2);
    assert.equal(missBound([], ticks), 0);
  });

  it("classes tick jobs as fired, missed, doubled and off the grid", () => {
    const jobs = new Map([
      ["sched:s:1000", 1_010],
      ["sched:s:2000", 2_400],
      ["sched:s:2500", 2_500],
      ["sched:s:4000", 4_000],
    ]);
    const f = classifyTicks({
      scheduleId: "s",
      first: 1_000,
      everyMs: 1_000,
      owed: 4,
      jobs,
      enqueuedEvents: new Map([["sched:s:1000", 2]]),
      completedEvents: new Map([["sched:s:4000", 2]]),
      rerunOnLive: ["sched:s:2000"],
    });
    assert.equal(f.expected, 4);
    assert.equal(f.fired, 3);
    assert.deepEqual(f.missed, [3_000]);
    assert.deepEqual(f.offGrid, ["sched:s:2500"]);
    assert.deepEqual(f.doubled.sort(), ["sched:s:1000", "sched:s:2000", "sched:s:4000"]);
    assert.equal(f.maxLateMs, 400);
  });

  it("counts the most starts in any window", () => {
    assert.equal(mostInWindow([0, 200, 400, 600, 800, 1_000], 1_000), 5);
    assert.equal(mostInWindow([0, 200, 400, 600, 800, 999], 1_000), 6);
    assert.equal(mostInWindow([], 1_000), 0);
  });
});
