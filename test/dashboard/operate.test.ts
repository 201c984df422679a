/**
 * Operating jobs from the dashboard, in a real headless Chromium against
 * the real service: retry, promote, the job's log and dependencies in the
 * detail drawer, the paused banner and its toggle, cleaning finished jobs,
 * search, and the schedules card. Each test takes a screenshot under
 * /tmp/rapidai-dashboard/ for a person to look at.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { getQueue } from "rapidai/background";
import { createService } from "rapidai/service";
import { chatty } from "../service/fixtures/ops-tasks.js";
import { suiteWithChromium } from "../support/chromium.js";
import {
  browserScenes,
  DEMO_TASKS,
  enqueueFromForm,
  listen,
  openPage,
  row,
  rowIds,
  waitForRowStatus,
} from "./dashboard-scene.js";

const SHOTS = "/tmp/rapidai-dashboard";
const OPS_TASKS = [...DEMO_TASKS, "chatty", "flip", "hold"];

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** Opens a job's detail drawer by clicking its row. */
async function openDetail(page: Page, id: string): Promise<void> {
  await row(page, id).click();
  await page.locator("#detail:not([hidden])").waitFor();
  await page.waitForFunction(
    (want) => document.querySelector("#detail-id")?.textContent === want,
    id,
  );
}

suiteWithChromium("operating jobs from the dashboard", ({ before, after, test }) => {
  const scenes = browserScenes(before, after, { tasks: OPS_TASKS });
  const fresh = () => scenes.fresh();

  test("a failed job is retried from its detail, which shows its log; a delayed job is started now", async () => {
    const { base, api, queue } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    const failed = await queue.enqueue("will-fail", "flip", [true]);
    await waitForRowStatus(page, failed, "failed");
    await openDetail(page, failed);
    await page.locator("#detail-body .status-failed").waitFor();
    assert.equal(await page.textContent("#detail-log"), "about to fail");
    assert.equal(await page.locator("#detail-promote").count(), 0);
    await shot(page, "detail-failed-with-log");

    await page.click("#detail-retry");
    // It ran again: the drawer follows it to failed, with two attempts and two log lines.
    await page.waitForFunction(
      () => document.querySelector("#detail-log")?.textContent === "about to fail\nabout to fail",
    );
    await page.locator("#detail-body .status-failed").waitFor();
    assert.match((await page.textContent("#detail-body .facts")) ?? "", /Attempts2Max retries0/);
    assert.equal((await api(`/jobs/${failed}`)).body.attempts, 2);
    await page.click("#detail-close");

    // A job due in an hour: its detail says when, and "Start now" runs it.
    const delayed = await api("/jobs/fib", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ args: [12], delay_ms: 3_600_000 }),
    });
    const id = delayed.body.job_id as string;
    await waitForRowStatus(page, id, "pending");
    await openDetail(page, id);
    await page.locator("#detail-promote").waitFor();
    assert.match((await page.textContent("#detail-body .facts")) ?? "", /Due/);
    assert.equal(await page.locator("#detail-retry").count(), 0);
    await shot(page, "detail-delayed");
    await page.click("#detail-promote");
    await page.locator("#detail-body .status-completed").waitFor();
    assert.equal((await page.textContent("#detail-body pre.ok"))?.trim(), "144");
    assert.equal(await page.locator("#detail-promote").count(), 0);

    assert.deepEqual(errors, []);
    await close();
  });

  test("a job's dependencies are links to their own detail", async () => {
    const { base, queue } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    await queue.enqueue("dep-a", "fib", [10]);
    await queue.enqueue("dep-b", "chatty", [1]);
    await queue.enqueue("joined", "chatty", [2], { dependsOn: ["dep-a", "dep-b"] });
    await waitForRowStatus(page, "joined", "completed");
    await openDetail(page, "joined");
    await page.locator("#detail-body .dep-link").first().waitFor();
    assert.deepEqual(
      await page.$$eval("#detail-body .dep-link", (as) => as.map((a) => a.textContent)),
      ["dep-a", "dep-b"],
    );
    assert.equal(await page.textContent("#detail-log"), "step 1 of 2\nstep 2 of 2");
    await shot(page, "detail-dependencies");
    await page.click('#detail-body .dep-link[data-dep="dep-a"]');
    await page.waitForFunction(() => document.querySelector("#detail-id")?.textContent === "dep-a");
    await page.locator("#detail-body pre.ok").waitFor();
    assert.equal((await page.textContent("#detail-body pre.ok"))?.trim(), "55");
    assert.equal(await page.evaluate(() => location.hash), "#job=dep-a");
    assert.deepEqual(errors, []);
    await close();
  });

  test("the toggle pauses the queue under a banner; a pause made elsewhere shows too; resume runs the waiting job", async () => {
    const { base, api } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    await page.locator('#queue-toggle[data-paused="false"]').waitFor();
    assert.equal(await page.isHidden("#paused-banner"), true);
    await page.click("#queue-toggle");
    await page.locator("#paused-banner:not([hidden])").waitFor();
    assert.equal((await api("/queue")).body.paused, true);
    assert.equal(await page.textContent("#queue-toggle"), "Resume queue");

    const id = await enqueueFromForm(page, "fib", "[15]");
    await waitForRowStatus(page, id, "pending");
    await shot(page, "paused-banner");
    await page.click("#paused-resume");
    await page.locator("#paused-banner").waitFor({ state: "hidden" });
    await waitForRowStatus(page, id, "completed");
    assert.equal((await api("/queue")).body.paused, false);

    // Paused through the API (as the CLI does): the page shows it without a click.
    await api("/queue/pause", { method: "POST" });
    await page.locator("#paused-banner:not([hidden])").waitFor({ timeout: 12_000 });
    await page.click("#queue-toggle");
    await page.locator("#paused-banner").waitFor({ state: "hidden" });
    assert.deepEqual(errors, []);
    await close();
  });

  test("clean deletes the finished jobs of the status chosen, and the table follows", async () => {
    const { base, api, enqueue, queue } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    const done = [await enqueue("fib", [3]), await enqueue("fib", [4])];
    const failed = await queue.enqueue("keeps", "flip", [true]);
    for (const id of done) await waitForRowStatus(page, id, "completed");
    await waitForRowStatus(page, failed, "failed");

    await page.click("#clean-open");
    await page.locator("#clean-dialog[open]").waitFor();
    await page.selectOption("#clean-status", "completed");
    await shot(page, "clean-dialog");
    await page.click("#clean-submit");
    await page.locator("#clean-dialog").waitFor({ state: "hidden" });
    await page.locator(".toast.success", { hasText: "Removed 2 completed jobs" }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll("#jobs-body tr").length === 1);
    assert.deepEqual(await rowIds(page), [failed]);
    assert.equal((await api("/api/stats")).body.counts.completed, 0);
    for (const id of done) assert.equal((await api(`/jobs/${id}`)).status, 404);
    assert.deepEqual(errors, []);
    await close();
  });

  test("search finds a job by id and filters by task", async () => {
    const { base, enqueue, queue } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    await queue.enqueue("needle-7", "chatty", [1]);
    const fibs = [await enqueue("fib", [2]), await enqueue("fib", [3])];
    for (const id of fibs) await waitForRowStatus(page, id, "completed");

    await page.fill("#search", "needle-7");
    await page.press("#search", "Enter");
    await page.waitForFunction(
      () => document.querySelector("#detail-id")?.textContent === "needle-7",
    );
    await page.click("#detail-close");

    await page.fill("#search", "fib");
    await page.press("#search", "Enter");
    await page.waitForFunction(() => document.querySelectorAll("#jobs-body tr").length === 2);
    assert.equal(await page.inputValue("#filter-task"), "fib");
    assert.deepEqual(await rowIds(page), [fibs[1], fibs[0]]);

    await page.fill("#search", "no-such-thing");
    await page.press("#search", "Enter");
    await page.locator("#search-message:not([hidden])").waitFor();
    assert.match((await page.textContent("#search-message")) ?? "", /No job or task is called/);
    await shot(page, "search");
    // The lookup's 404 is the browser's only complaint.
    assert.deepEqual(
      errors.map((e) => e.replace(/^.*\((http[^)]*)\)$/, "$1")),
      [`${base}/jobs/no-such-thing`],
    );
    await close();
  });

  test("the schedules card shows each schedule's rule, next run and last job", async () => {
    // task.schedule() goes to the task's own queue: the process's default one.
    const queue = getQueue("memory", { threads: 1 });
    const app = createService({ queue, tasks: OPS_TASKS, processMetrics: false });
    const base = await listen(app);
    const unschedule = (id: string) => queue.unschedule(id);
    try {
      // schedule() alone does not start a queue that has run nothing yet (the
      // first enqueue or start() does), and a queue not started fires nothing.
      await queue.start();
      await chatty.schedule("tick", { everyMs: 1000 }, 1);
      await chatty.schedule("nightly", { cron: "0 3 * * *", tz: "Europe/Berlin" }, 1);
      const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
      await page.locator("#schedules-card:not([hidden])").waitFor();
      await page.locator('#schedules-body tr[data-schedule-id="nightly"]').waitFor();
      const nightly = page.locator('#schedules-body tr[data-schedule-id="nightly"]');
      assert.equal(await nightly.locator(".rule").textContent(), "cron 0 3 * * * (Europe/Berlin)");
      assert.notEqual(await nightly.locator(".next-run").textContent(), "—");
      const tick = page.locator('#schedules-body tr[data-schedule-id="tick"]');
      assert.equal(await tick.locator(".rule").textContent(), "every 1.00 s");
      // The tick fires every second: its last job shows within a re-sync, as a link.
      await tick.locator(".last-job a.job-link").waitFor({ timeout: 12_000 });
      const last = (await tick.locator(".last-job a.job-link").textContent()) ?? "";
      await shot(page, "schedules");
      await tick.locator(".last-job a.job-link").click();
      await page.waitForFunction(
        (want) => document.querySelector("#detail-id")?.textContent === want,
        last,
      );
      assert.deepEqual(errors, []);
      await close();
    } finally {
      await unschedule("tick");
      await unschedule("nightly");
      await app.close();
      await queue.close({ timeoutMs: 1000 });
    }
  });
});
