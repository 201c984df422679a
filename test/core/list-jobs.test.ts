import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ErrorCode, JobError, JobResult } from "rapidai/background";
import { alwaysFail, identity, whereAmI } from "../fixtures/core-tasks.js";
import { caught, closeQueues, openQueue } from "./helpers.js";

after(() => closeQueues());

describe("listJobs()", () => {
  const queue = openQueue({ threads: 1 });
  // Enqueue order: j0 … j9. j2 and j5 fail, j7 is cancelled, j9 stays pending (delayed).
  const ids = Array.from({ length: 10 }, (_, i) => `j${i}`);

  before(async () => {
    for (const [i, id] of ids.entries()) {
      if (i === 2 || i === 5) await queue.enqueue(id, alwaysFail, [`bad ${i}`]);
      else if (i === 7 || i === 9) await queue.enqueue(id, identity, [i], { delayMs: 60_000 });
      else if (i === 8) await queue.enqueue(id, whereAmI, [String(i)]);
      else await queue.enqueue(id, identity, [i]);
    }
    await queue.cancel("j7");
    await Promise.all(
      ids.filter((id) => id !== "j9").map((id) => queue.waitFor(id, { timeoutMs: 20_000 })),
    );
  });

  it("lists every job newest first", async () => {
    const all = await queue.listJobs();
    assert.deepEqual(
      all.map((j) => j.jobId),
      [...ids].reverse(),
    );
    assert.ok(all.every((j) => j instanceof JobResult));
  });

  it("filters by status", async () => {
    const ids = async (status: Parameters<typeof queue.listJobs>[0]) =>
      (await queue.listJobs(status)).map((j) => j.jobId);
    assert.deepEqual(await ids("failed"), ["j5", "j2"]);
    assert.deepEqual(await ids("cancelled"), ["j7"]);
    assert.deepEqual(await ids("pending"), ["j9"]);
    assert.deepEqual(await ids("running"), []);
    assert.deepEqual(await ids("completed"), ["j8", "j6", "j4", "j3", "j1", "j0"]);
  });

  it("pages with limit and offset, newest first", async () => {
    const page = async (limit: number, offset: number, status?: "completed") =>
      (await queue.listJobs(status, { limit, offset })).map((j) => j.jobId);
    assert.deepEqual(await page(3, 0), ["j9", "j8", "j7"]);
    assert.deepEqual(await page(3, 3), ["j6", "j5", "j4"]);
    assert.deepEqual(await page(3, 9), ["j0"]);
    assert.deepEqual(await page(3, 10), []);
    assert.deepEqual(await page(0, 0), []);
    assert.deepEqual(await page(2, 1, "completed"), ["j6", "j4"]);
    assert.deepEqual(
      (await queue.listJobs(undefined, { offset: 8 })).map((j) => j.jobId),
      ["j1", "j0"],
    );
  });

  it("filters by task", async () => {
    const only = await queue.listJobs(undefined, { task: "whereAmI" });
    assert.deepEqual(
      only.map((j) => j.jobId),
      ["j8"],
    );
  });

  it("gives snapshots with status, result, error and timestamps", async () => {
    const [j2] = await queue.listJobs("failed", { limit: 1, offset: 1 });
    assert.equal(j2?.jobId, "j2");
    assert.equal(j2?.error, "bad 2 (attempt 1)");
    assert.equal(j2?.isDone, true);
    const [j0] = await queue.listJobs(undefined, { offset: 9 });
    assert.equal(j0?.result, 0);
    assert.ok(j0?.completedAt instanceof Date);
  });

  it("rejects an unknown status with ERR_INVALID_STATUS and bad paging with ERR_INVALID_OPTION", async () => {
    const status = await caught(() => queue.listJobs("queued" as never));
    assert.ok(status instanceof JobError);
    assert.equal(status.code, ErrorCode.INVALID_STATUS);
    for (const [options, name] of [
      [{ limit: -1 }, "limit"],
      [{ limit: 1.5 }, "limit"],
      [{ offset: -3 }, "offset"],
      [{ page: 2 }, "page"],
    ] as const) {
      const error = await caught(() => queue.listJobs(undefined, options as never));
      assert.equal(error.code, ErrorCode.INVALID_OPTION, JSON.stringify(options));
      assert.match(error.message, new RegExp(name));
    }
  });
});

describe("retention of finished jobs", () => {
  it("keeps at most retention.maxCount finished jobs, dropping the oldest, and never a pending one", async () => {
    const queue = openQueue({ threads: 1, retention: { maxCount: 2 } });
    await queue.enqueue("waiting", identity, [0], { delayMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      await queue.enqueue(`r${i}`, identity, [i]);
      await queue.waitFor(`r${i}`, { timeoutMs: 20_000 });
    }
    assert.deepEqual(
      (await queue.listJobs()).map((j) => j.jobId),
      ["r4", "r3", "waiting"],
    );
    assert.equal(await queue.getResult("r0"), undefined);
    assert.deepEqual(await queue.countJobs(), {
      pending: 1,
      running: 0,
      completed: 2,
      failed: 0,
      cancelled: 0,
    });
    // A dropped job's id can be used again.
    await queue.enqueue("r0", identity, ["again"]);
    assert.equal((await queue.waitFor("r0", { timeoutMs: 20_000 })).result, "again");
    assert.equal(await queue.cancel("waiting"), true);
  });
});
