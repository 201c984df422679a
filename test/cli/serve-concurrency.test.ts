/**
 * `rapidai-jobs serve --concurrency-per-thread N`: jobs that await I/O share
 * a thread. With one thread and the default of 1, a sleeping job holds it
 * and every other job waits; with 4, four sleep at once.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pollJob, request, runCli, startCli } from "../service/harness.js";

/** Runs `serve` on one thread with `extra` flags, starts 4 sleeping jobs, and returns how many ran at once. */
async function sleepersAtOnce(extra: string[], env: Record<string, string> = {}) {
  const cli = await startCli(["serve", "--port", "0", "--threads", "1", ...extra], env);
  try {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await request(`${cli.url}/jobs/sleep`, { body: { args: [1_500] } });
      assert.equal(a.status, 202);
      ids.push(a.body.job_id);
    }
    // Once the first job runs, count the jobs running beside it.
    await pollJob(cli.url, ids[0]!, (j) => j.status === "running");
    let most = 0;
    for (;;) {
      const jobs = await Promise.all(ids.map((id) => request(`${cli.url}/jobs/${id}`)));
      const statuses = jobs.map((j) => j.body.status as string);
      most = Math.max(most, statuses.filter((s) => s === "running").length);
      if (statuses.every((s) => s === "completed") || most === ids.length) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return most;
  } finally {
    cli.child.kill("SIGKILL");
  }
}

describe("rapidai-jobs serve --concurrency-per-thread", { concurrency: true }, () => {
  test("runs that many awaiting jobs at once on one thread", async () => {
    assert.equal(await sleepersAtOnce(["--concurrency-per-thread", "4"]), 4);
  });

  test("takes the value from RAPIDAI_CONCURRENCY_PER_THREAD", async () => {
    assert.equal(await sleepersAtOnce([], { RAPIDAI_CONCURRENCY_PER_THREAD: "4" }), 4);
  });

  test("runs one job per thread by default", async () => {
    assert.equal(await sleepersAtOnce([]), 1);
  });

  test("is in --help with its environment variable, and a bad value exits 2 naming it", async () => {
    const help = await runCli(["serve", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--concurrency-per-thread <n>/);
    assert.match(help.stdout, /env RAPIDAI_CONCURRENCY_PER_THREAD\b/);
    for (const bad of ["0", "x", "1001"]) {
      const r = await runCli(["serve", "--concurrency-per-thread", bad]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--concurrency-per-thread must be an integer from 1 to 1000/, bad);
    }
  });
});
