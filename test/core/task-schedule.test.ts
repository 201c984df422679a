import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { background, ErrorCode, InMemoryQueue, JobError } from "rapidai/background";

const queue = new InMemoryQueue({ threads: 1 });
after(() => queue.close());

const report = background({ queue, name: "schedule-test-report" })(function report(kind: string) {
  return kind;
});

describe("task.schedule", () => {
  it("stores the schedule in the task's queue under the task's name", async () => {
    await report.schedule("nightly", { cron: "0 3 * * *", tz: "Europe/Berlin" }, "pdf");
    const [s] = await queue.listSchedules();
    assert.equal(s?.id, "nightly");
    assert.equal(s?.task, "schedule-test-report");
    assert.equal(s?.cron, "0 3 * * *");
    assert.equal(s?.tz, "Europe/Berlin");
    assert.ok(s!.nextRunAt instanceof Date && s!.nextRunAt.getTime() > Date.now());
    assert.equal(await queue.unschedule("nightly"), true);
    assert.equal(await queue.unschedule("nightly"), false);
    assert.deepEqual(await queue.listSchedules(), []);
  });

  it("rejects a bad spec with a coded error and stores nothing", async () => {
    await assert.rejects(
      report.schedule("bad", { cron: "0 3 * * *", everyMs: 10 } as never, "pdf"),
      (e: unknown) => e instanceof JobError && e.code === ErrorCode.INVALID_OPTION,
    );
    await assert.rejects(
      report.schedule("bad", { cron: "not a cron" }, "pdf"),
      (e: unknown) => e instanceof JobError && e.code === ErrorCode.INVALID_OPTION,
    );
    assert.deepEqual(await queue.listSchedules(), []);
  });

  it("fires an every-ms schedule on a running queue, one job per tick with the schedule's arguments", async () => {
    await queue.start();
    const fired: string[] = [];
    const seen = new Promise<void>((resolve) => {
      queue.on("completed", (e) => {
        if (!e.jobId.startsWith("sched:tick:")) return;
        fired.push(e.jobId);
        assert.equal(e.result, "beat");
        if (fired.length === 3) resolve();
      });
    });
    // The scheduler's timer does not hold the process open by itself (as
    // Node's own unref'd timers): this test holds it while it waits.
    const hold = setInterval(() => {}, 1000);
    await report.schedule("tick", { everyMs: 200 }, "beat");
    await seen;
    clearInterval(hold);
    await queue.unschedule("tick");
    assert.equal(new Set(fired).size, fired.length, "no tick fired twice");
    const [info] = await queue.listSchedules();
    assert.equal(info, undefined);
  });
});
