import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { background, ErrorCode, InMemoryQueue, JobError } from "rapidai/background";
import { listSchedules, scheduleJob, unscheduleJob } from "../../src/engine/schedule-api.js";
import type { ScheduleSpec } from "../../src/engine/schedule-spec.js";
import { ScheduleTable } from "../../src/memory/schedule-table.js";

/** A queue with the schedule methods, forwarding to the helpers as the backends do. */
class SchedulingQueue extends InMemoryQueue {
  readonly table = new ScheduleTable();
  schedule(id: string, task: string, spec: ScheduleSpec, args: unknown[]) {
    return scheduleJob(this.table, id, task, spec, args);
  }
  unschedule(id: string) {
    return unscheduleJob(this.table, id);
  }
  listSchedules() {
    return listSchedules(this.table);
  }
}

const queue = new SchedulingQueue({ threads: 1 });
const plain = new InMemoryQueue({ threads: 1 });
after(() => Promise.all([queue.close(), plain.close()]));

const report = background({ queue, name: "schedule-test-report" })(function report(kind: string) {
  return kind;
});
const unscheduled = background({ queue: plain, name: "schedule-test-plain" })(function plainTask() {
  return 1;
});

describe("task.schedule", () => {
  it("stores the schedule in the task's queue under the task's name, with its arguments", async () => {
    await report.schedule("nightly", { cron: "0 3 * * *", tz: "Europe/Berlin" }, "pdf");
    const [s] = await queue.listSchedules();
    assert.equal(s?.id, "nightly");
    assert.equal(s?.task, "schedule-test-report");
    assert.equal(s?.tz, "Europe/Berlin");
    assert.ok(s!.nextRunAt instanceof Date && s!.nextRunAt.getTime() > Date.now());
    const stored = await queue.table.get("nightly");
    assert.deepEqual(queue.table.decodeArgs(stored!.args), ["pdf"]);
    assert.equal(await queue.unschedule("nightly"), true);
  });

  it("rejects a bad spec with a coded error and stores nothing", async () => {
    await assert.rejects(
      report.schedule("bad", { cron: "0 3 * * *", everyMs: 10 } as never, "pdf"),
      (e: unknown) => e instanceof JobError && e.code === ErrorCode.INVALID_OPTION,
    );
    assert.deepEqual(await queue.listSchedules(), []);
  });

  it("rejects, not throws, on a queue that keeps no schedules", async () => {
    const pending = unscheduled.schedule("x", { everyMs: 1000 });
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof JobError && e.code === ErrorCode.INVALID_OPTION,
    );
  });
});
