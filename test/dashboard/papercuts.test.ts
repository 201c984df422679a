/**
 * What a newcomer tripped over in the dashboard, in a real headless
 * Chromium against the real service: one readable time format (24-hour
 * clock, the date when it is not today), delayed jobs told from waiting
 * ones, a phone-wide page with nothing clipped, a sign-in page instead of
 * raw JSON, and per-task statistics. Each test takes a screenshot under
 * /tmp/rapidai-dashboard/ for a person to look at.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import "../service/fixtures/ops-tasks.js";
import { suiteWithChromium } from "../support/chromium.js";
import { browserScenes, DEMO_TASKS, openPage, row, waitForRowStatus } from "./dashboard-scene.js";

const SHOTS = "/tmp/rapidai-dashboard";
const TASKS = [...DEMO_TASKS, "chatty", "flip", "hold"];
const TOKEN = "papercut-token";
const DAY_MS = 86_400_000;
/** `23:03:40`: the page's clock, hours 00-23. */
const CLOCK = /^\d\d:\d\d:\d\d$/;

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

const text = async (page: Page, selector: string) =>
  ((await page.textContent(selector)) ?? "").trim();

suiteWithChromium("dashboard papercuts", ({ before, after, test }) => {
  const scenes = browserScenes(before, after, { tasks: TASKS });
  const fresh = scenes.fresh;

  test("times read on a 24-hour clock, with the date on a day that is not today; a delayed job says when it is due", async () => {
    const { base, queue } = await fresh();
    await queue.enqueue("done-job", "fib", [10]);
    await queue.enqueue("later-job", "fib", [11], { delayMs: 3_600_000 });
    const { createdAt: created, runAt } = (await queue.getResult("later-job"))!;
    // Due in an hour: on the next day when this runs after 23:00, and then
    // its date shows (with the year on the last night of a year).
    const due = runAt!;
    const now = new Date();
    const sameYear = due.getFullYear() === now.getFullYear();
    const dueDay =
      due.toDateString() === now.toDateString()
        ? ""
        : `${due.toLocaleDateString("en-US", { month: "short", day: "numeric", ...(sameYear ? {} : { year: "numeric" }) })}, `;

    const today = await openPage(scenes.browser, `${base}/`);
    await waitForRowStatus(today.page, "done-job", "completed");
    await waitForRowStatus(today.page, "later-job", "pending");
    assert.match(await text(today.page, '#jobs-body tr[data-job-id="done-job"] .created'), CLOCK);
    // The delayed job is not just "Pending": the table says so, and when.
    const later = row(today.page, "later-job");
    assert.equal(await later.locator(".status").textContent(), "Delayed");
    assert.match(
      (await later.locator(".due-note").textContent()) ?? "",
      new RegExp(`^due ${dueDay}\\d\\d:\\d\\d:\\d\\d$`),
    );
    await later.click();
    await today.page.locator("#detail-promote").waitFor();
    const facts = await text(today.page, "#detail-body .facts");
    assert.match(
      facts,
      new RegExp(
        `Created\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Due${dueDay}\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\(in 59 min \\d\\d s\\)`,
      ),
    );
    assert.doesNotMatch(await text(today.page, "body"), /\b(AM|PM)\b/);
    await shot(today.page, "times-today");
    assert.deepEqual(today.errors, []);
    await today.close();

    // Two days on (the browser's clock only): every time carries its date.
    const onward = await openPage(scenes.browser, `${base}/`, {
      beforeLoad: (page) => page.clock.setFixedTime(Date.now() + 2 * DAY_MS),
    });
    await waitForRowStatus(onward.page, "done-job", "completed");
    const day = created.toLocaleDateString("en-US", { month: "short", day: "numeric" });
    const cell = await text(onward.page, '#jobs-body tr[data-job-id="done-job"] .created');
    assert.match(cell, /^[A-Z][a-z]{2} \d{1,2}, \d\d:\d\d:\d\d$/);
    assert.ok(cell.startsWith(`${day}, `), `${cell} is on ${day}`);
    await row(onward.page, "done-job").click();
    await onward.page.locator("#detail-body .status-completed").waitFor();
    assert.match(
      await text(onward.page, "#detail-body .facts"),
      new RegExp(`Created${day}, \\d\\d:\\d\\d:\\d\\d\\.\\d{3}`),
    );
    await shot(onward.page, "times-other-day");
    assert.deepEqual(onward.errors, []);
    await onward.close();
  });

  test("at 390 px wide nothing overflows sideways and a running job's Cancel button is on screen and works", async () => {
    const { base, queue } = await fresh();
    for (const n of [5, 6])
      await queue.enqueue(`finished-with-a-long-id-${n}-0123456789abcdef`, "fib", [n]);
    await queue.enqueue("running-with-a-long-id-0123456789abcdef", "hold", [60_000]);
    await queue.enqueue("delayed-with-a-long-id-0123456789abcdef", "fib", [7], {
      delayMs: 3_600_000,
    });
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`, {
      viewport: { width: 390, height: 844 },
    });
    const running = "running-with-a-long-id-0123456789abcdef";
    await waitForRowStatus(page, running, "running");
    await page.locator("#tasks-body tr").first().waitFor();
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      tables: Array.from(document.querySelectorAll(".table-wrap"))
        .filter((w) => (w as HTMLElement).offsetParent !== null)
        .map((w) => w.scrollWidth - w.clientWidth),
      topbar: (document.querySelector(".topbar") as HTMLElement).offsetHeight,
    }));
    assert.equal(widths.page, 390, "the page scrolls sideways");
    assert.deepEqual(
      widths.tables,
      widths.tables.map(() => 0),
      "a table scrolls sideways",
    );
    assert.ok(widths.topbar < 56, `the header wraps (${widths.topbar} px)`);
    const cancel = row(page, running).locator("[data-cancel]");
    const box = (await cancel.boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `Cancel at ${box.x}+${box.width}`);
    await shot(page, "phone-390");
    await cancel.click();
    await waitForRowStatus(page, running, "cancelled");
    assert.deepEqual(errors, []);
    await close();
  });

  test("opening / without the token shows a sign-in page that leads to the dashboard", async () => {
    const { base } = await fresh({ token: TOKEN });
    const context = await scenes.browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const answer = await page.goto(`${base}/`);
    assert.equal(answer?.status(), 401);
    await page.locator("#login-form").waitFor();
    assert.equal(await text(page, "#login-reason"), "This service needs an access token.");
    assert.doesNotMatch(await text(page, "body"), /Missing bearer token|"error"/);
    await shot(page, "sign-in");

    await page.fill("#login-token", "not-the-token");
    await page.click("#login-submit");
    await page.waitForURL(`${base}/?token=not-the-token`);
    await page.waitForFunction(() =>
      document.querySelector("#login-reason")?.textContent?.includes("did not accept"),
    );

    await page.fill("#login-token", TOKEN);
    await page.click("#login-submit");
    await page.waitForURL(`${base}/?token=${TOKEN}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    // The tab keeps the token: opening / again goes straight back to the dashboard.
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/?token=${TOKEN}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await context.close();
  });

  test("the tasks card shows each task's counts, failure rate and p50/p95, and a task's name filters the table", async () => {
    const { base, queue } = await fresh();
    for (const n of [12, 14, 16]) await queue.enqueue(`fib-${n}`, "fib", [n]);
    await queue.enqueue("flip-1", "flip", [true]);
    await queue.enqueue("flip-2", "flip", [false]);
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    for (const id of ["fib-12", "fib-14", "fib-16", "flip-2"]) {
      await waitForRowStatus(page, id, "completed");
    }
    await waitForRowStatus(page, "flip-1", "failed");
    // The card is re-read every few seconds: wait for the one that counts them all.
    const fib = page.locator('#tasks-body tr[data-task="fib"]');
    await page.locator('#tasks-body tr[data-task="fib"] .completed', { hasText: "3" }).waitFor({
      timeout: 12_000,
    });
    await page.locator('#tasks-body tr[data-task="flip"] .failed', { hasText: "1" }).waitFor({
      timeout: 12_000,
    });
    assert.equal(await fib.locator(".failure-rate").textContent(), "0 %");
    assert.match((await fib.locator(".p50").textContent()) ?? "", /^\d+(\.\d+)? (ms|s)$/);
    assert.match((await fib.locator(".p95").textContent()) ?? "", /^\d+(\.\d+)? (ms|s)$/);
    const flip = page.locator('#tasks-body tr[data-task="flip"]');
    assert.equal(await flip.locator(".failure-rate").textContent(), "50 %");
    const sleep = page.locator('#tasks-body tr[data-task="sleep"]');
    assert.equal(await sleep.locator(".failure-rate").textContent(), "—");
    assert.match(await text(page, "#tasks-window"), /^5 finished jobs$/);
    await shot(page, "tasks-card");

    await flip.locator(".task-link").click();
    await page.waitForFunction(() => document.querySelectorAll("#jobs-body tr").length === 2);
    assert.equal(await page.inputValue("#filter-task"), "flip");
    assert.deepEqual(errors, []);
    await close();
  });
});
