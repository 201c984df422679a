/**
 * Cancel storm (RELIABILITY.md), on the in-memory queue: jobs cancelled at
 * random moments while pending, while running cooperatively and while
 * spinning without ever checking, with healthy jobs mixed in. Scaled down
 * for `npm test`; CHAOS_FULL=1 runs the catalogue's 500 jobs.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import "../fixtures/cancel-storm-tasks.js";
import { runCancelStorm, spunThreads, stormSummary } from "../support/cancel-storm.js";
import { assertPoolRefilled, assertStorm } from "../support/cancel-storm-checks.js";
import { closeQueues, openQueue } from "./helpers.js";

const FULL = process.env.CHAOS_FULL === "1";
const JOBS = FULL ? 500 : 150;
const THREADS = 2;
const GRACE_MS = 200;

after(() => closeQueues());

describe("cancel storm on the in-memory queue", () => {
  it(`ends each of ${JOBS} randomly cancelled jobs cancelled within the grace period + 1 s, replaces spinning threads, and leaves healthy jobs alone`, async () => {
    const queue = openQueue({ threads: THREADS, cancelGraceMs: GRACE_MS });
    const storm = await runCancelStorm(queue, {
      jobs: JOBS,
      graceMs: GRACE_MS,
      horizonMs: FULL ? 8000 : 3000,
    });
    console.log(stormSummary("cancel storm (memory)", storm));
    assertStorm(storm, GRACE_MS);
    const spun = spunThreads(storm);
    assert.ok(spun.length > 0, `some jobs spun through their cancel (seed ${storm.seed})`);
    await assertPoolRefilled(queue, THREADS, spun);
    const healthy = storm.jobs.filter((j) => j.kind === "healthy").length;
    assert.deepEqual(await queue.countJobs(), {
      pending: 0,
      running: 0,
      completed: healthy + THREADS,
      failed: 0,
      cancelled: JOBS - healthy,
    });
  });
});
