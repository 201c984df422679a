/**
 * The dashboard in a real headless Chromium, against the real service over
 * an in-memory queue running the demo tasks on two worker threads. Each
 * test has its own queue and service, so none depends on what another left.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createService } from "rapidai/service";
import { suiteWithChromium } from "../support/chromium.js";
import {
  browserScenes,
  DEMO_TASKS,
  enqueueFromForm,
  openPage,
  row,
  rowIds,
  rowStatuses,
  waitForRowStatus,
} from "./dashboard-scene.js";

const TOKEN = "dashboard-test-token";
const NEW_TOKEN = "rotated-token";
/** Jobs enqueued at once to flood the event stream (fib(1) runs thousands a second). */
const BURST = 6000;
const SCREENSHOT = "test-artifacts/dashboard.png";

suiteWithChromium("dashboard in headless Chromium", ({ before, after, test }) => {
  const scenes = browserScenes(before, after);
  const fresh = scenes.fresh;

  test("a fib job enqueued from the form goes live from pending to completed, a sleep job is cancelled by its buttons, and the table filters by status", async () => {
    const { base, api, enqueue } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    await page.evaluate(() => {
      (window as any).notReloaded = true;
    });
    const failing = await enqueue("fail", ["on purpose"]);

    // Two long sleep jobs hold both worker threads: the fib job waits until they go.
    const holders = [await enqueue("sleep", [60_000]), await enqueue("sleep", [60_000])];
    const fibId = await enqueueFromForm(page, "fib", "[25]");
    await row(page, fibId).waitFor();
    assert.equal(await row(page, fibId).getAttribute("data-status"), "pending");
    for (const id of holders) {
      assert.equal((await api(`/jobs/${id}`, { method: "DELETE" })).status, 200);
    }
    await waitForRowStatus(page, fibId, "completed");
    for (const id of holders) await waitForRowStatus(page, id, "cancelled");
    assert.equal(
      await page.evaluate(() => (window as any).notReloaded),
      true,
      "no reload happened",
    );

    // The detail view of the completed job.
    await row(page, fibId).click();
    await page.locator("#detail:not([hidden])").waitFor();
    await page.locator("#detail-body .status-completed").waitFor();
    assert.equal(await page.locator("#detail-id").textContent(), fibId);
    assert.equal((await page.locator("#detail-body pre.ok").textContent())?.trim(), "75025");
    assert.match((await page.locator("#detail-body .facts").textContent()) ?? "", /Attempts1 of 1/);
    await page.click("#detail-close");
    await page.locator("#detail").waitFor({ state: "hidden" });

    // A long sleep job, cancelled from its row.
    const longId = await enqueueFromForm(page, "sleep", "[60000]");
    await row(page, longId).waitFor();
    await row(page, longId).locator("button[data-cancel]").click();
    await waitForRowStatus(page, longId, "cancelled");
    assert.equal(await row(page, longId).locator("button[data-cancel]").count(), 0);

    // Another, cancelled from its detail view once its progress bar moved.
    const watched = await enqueueFromForm(page, "sleep", "[5000]");
    await row(page, watched).click();
    await page.waitForFunction(() => {
      const v = document
        .querySelector("#detail-body [role=progressbar]")
        ?.getAttribute("aria-valuenow");
      return v !== null && v !== undefined && Number(v) > 0;
    });
    await page.click("#detail-cancel");
    await page.locator("#detail-body .status-cancelled").waitFor();
    await waitForRowStatus(page, watched, "cancelled");
    await page.click("#detail-close");

    // The counters follow the events (and the periodic re-sync agrees).
    await waitForRowStatus(page, failing, "failed");
    const counts = (await api("/api/stats")).body.counts;
    assert.deepEqual(counts, { pending: 0, running: 0, completed: 1, failed: 1, cancelled: 4 });
    await page.waitForFunction(
      () =>
        document.querySelector('[data-status="cancelled"] .count-value')?.textContent === "4" &&
        document.querySelector('[data-status="completed"] .count-value')?.textContent === "1" &&
        document.querySelector('[data-status="failed"] .count-value')?.textContent === "1",
    );

    // Filter by status, from the select and from a counter.
    await page.selectOption("#filter-status", "cancelled");
    await page.waitForFunction(() => document.querySelectorAll("#jobs-body tr").length === 4);
    assert.deepEqual(await rowStatuses(page), ["cancelled", "cancelled", "cancelled", "cancelled"]);
    assert.deepEqual(await rowIds(page), [watched, longId, holders[1], holders[0]]);
    await page.click('.count-card[data-status="completed"]');
    await page.waitForFunction(() => document.querySelectorAll("#jobs-body tr").length === 1);
    assert.deepEqual(await rowIds(page), [fibId]);
    assert.equal(await page.inputValue("#filter-status"), "completed");
    await page.selectOption("#filter-status", "running");
    await page.locator("#jobs-empty:not([hidden])").waitFor();
    await page.selectOption("#filter-status", "");
    await page.waitForFunction(() => document.querySelectorAll("#jobs-body tr").length === 6);

    // Arguments are checked before sending; what the server refuses is shown as it said.
    await page.selectOption("#enqueue-task", "fib");
    await page.fill("#enqueue-args", "[25,");
    await page.click("#enqueue-submit");
    await page.locator("#enqueue-message.error").waitFor();
    assert.match((await page.textContent("#enqueue-message")) ?? "", /Not valid JSON/);
    await page.fill("#enqueue-args", '{"n": 25}');
    await page.click("#enqueue-submit");
    assert.match((await page.textContent("#enqueue-message")) ?? "", /must be a JSON array/);
    await page.fill("#enqueue-args", JSON.stringify(["x".repeat(1_100_000)]));
    await page.click("#enqueue-submit");
    await page.waitForFunction(() =>
      /larger than/.test(document.querySelector("#enqueue-message")?.textContent ?? ""),
    );
    assert.equal((await api("/api/stats")).body.counts.pending, 0, "nothing was enqueued");
    const refused = errors.splice(0).filter((e) => !/status of 413/.test(e));
    assert.deepEqual(refused, [], "only the refused request was logged");

    // A job whose data looks like markup is shown as text.
    const markup = await enqueue("fail", ['<img src=x onerror="window.injected=1">']);
    await row(page, markup).click();
    await page.locator("#detail-body pre.bad:not(#detail-stack)").waitFor();
    assert.match(
      (await page.textContent("#detail-body pre.bad:not(#detail-stack)")) ?? "",
      /<img src=x/,
    );
    assert.equal(await page.evaluate(() => (window as any).injected), undefined);
    assert.equal(await page.locator("#detail-body img").count(), 0);
    await page.click("#detail-close");

    // A picture for people: a running job, a mix of states.
    await enqueue("sleep", [5000]);
    await page.fill("#enqueue-args", "[30]");
    await page.locator("#enqueue-args").blur();
    await page.waitForFunction(
      () => document.querySelector('#jobs-body tr[data-status="running"]') !== null,
    );
    mkdirSync("test-artifacts", { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    assert.deepEqual(errors, []);
    await close();
  });

  test("the job table pages on the server, newer and older, with and without a task filter", async () => {
    const { base, api, enqueue, queue } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    // Enough jobs of two tasks for three pages of everything and two of fib alone.
    for (let i = 0; i < 15; i++) await enqueue("fail", [`page ${i}`]);
    const ids: string[] = [];
    for (let i = 0; i < 45; i++) ids.push(await enqueue("fib", [1]));
    await queue.onIdle();
    const total = (await api("/jobs?limit=0")).body.total as number;
    const all = (await api(`/jobs?limit=${total}`)).body.jobs.map(
      (j: { job_id: string }) => j.job_id,
    );
    assert.equal(total, 60);

    await page.waitForFunction(
      (first) => document.querySelector("#jobs-body tr")?.getAttribute("data-job-id") === first,
      all[0],
    );
    assert.deepEqual(await rowIds(page), all.slice(0, 25));
    assert.equal(await page.textContent("#page-info"), `1–25 of ${total}`);
    assert.equal(await page.isDisabled("#page-prev"), true);

    await page.click("#page-next");
    await page.waitForFunction(
      (t) => document.querySelector("#page-info")?.textContent === `26–50 of ${t}`,
      total,
    );
    assert.deepEqual(await rowIds(page), all.slice(25, 50));
    assert.equal(await page.isDisabled("#page-next"), false);
    await page.click("#page-prev");
    await page.waitForFunction(
      (first) => document.querySelector("#jobs-body tr")?.getAttribute("data-job-id") === first,
      all[0],
    );

    // With a task filter (the service may not count the total then).
    await page.selectOption("#filter-task", "fib");
    const fibs = (await api(`/jobs?task=fib&limit=${total}`)).body.jobs.map(
      (j: { job_id: string }) => j.job_id,
    );
    await page.waitForFunction(
      (n) => document.querySelectorAll("#jobs-body tr").length === n,
      Math.min(25, fibs.length),
    );
    assert.deepEqual(await rowIds(page), fibs.slice(0, 25));
    assert.equal(await page.isDisabled("#page-next"), false);
    await page.click("#page-next");
    await page.waitForFunction(
      (first) => document.querySelector("#jobs-body tr")?.getAttribute("data-job-id") === first,
      fibs[25],
    );
    assert.deepEqual(await rowIds(page), fibs.slice(25, 50));

    assert.deepEqual(errors, []);
    await close();
  });

  test("after a burst of thousands of jobs, the counters, the first page and the chart are right without a reload", async () => {
    const { base, api, queue } = await fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${base}/`);
    await page.evaluate(() => {
      const w = window as any;
      w.notReloaded = true;
      w.states = [];
      new MutationObserver(() =>
        w.states.push(document.getElementById("connection")?.dataset.state),
      ).observe(document.getElementById("connection")!, {
        attributes: true,
        attributeFilter: ["data-state"],
      });
    });
    // The chart's first read of the service's counters is its base: taken
    // before the burst, every job of it is counted.
    await page.locator('#rate[data-synced="true"]').waitFor({ state: "attached" });
    const ids: string[] = [];
    for (let i = 0; i < BURST; i++) ids.push(await queue.enqueue(`burst-${i}`, "fib", [1]));
    await queue.onIdle();

    const counts = (await api("/api/stats")).body.counts as Record<string, number>;
    await page.waitForFunction(
      (want) =>
        Object.entries(want).every(
          ([status, n]) =>
            document.querySelector(`[data-status="${status}"] .count-value`)?.textContent ===
            n.toLocaleString("en-US"),
        ),
      counts,
    );
    await page.waitForFunction(
      (last) => document.querySelector("#jobs-body tr")?.getAttribute("data-job-id") === last,
      ids.at(-1),
    );
    // The chart shows the burst, whether it saw it in events or in the service's counters.
    // Its window total, not the 10 s rate: on a loaded machine the burst can
    // take longer than 10 s to count, and the rate fades while the test waits.
    // Within 1 %: when the page's first read of the service's counters lands
    // mid-burst, the few jobs whose events were still on the way count in
    // neither.
    await page.waitForFunction(
      (burst) =>
        Number(document.querySelector<HTMLElement>("#rate .window-total")?.dataset.completed) >=
        0.99 * burst,
      BURST,
    );
    const shown = await page.locator("#rate .window-total").evaluate((e) => ({
      completed: Number((e as HTMLElement).dataset.completed),
      text: e.textContent,
    }));
    assert.ok(shown.completed <= 1.01 * BURST, `${shown.completed} completed shown`);
    assert.match(shown.text ?? "", /^[\d,]+ completed · 0 failed in 5 min$/);
    assert.equal(await page.evaluate(() => (window as any).notReloaded), true);
    const states: string[] = await page.evaluate(() => (window as any).states);
    // The service may drop a client that falls behind; the browser logs that itself.
    const dropped = /ERR_INCOMPLETE_CHUNKED_ENCODING/;
    assert.deepEqual(
      errors.filter((e) => !dropped.test(e)),
      [],
      `connection states: ${states.join(" → ")}`,
    );
    await close();
  });

  test("with a token, the page works from ?token= (assets, API calls and event stream)", async () => {
    const { base: tokenBase } = await fresh({ token: TOKEN });
    const refused = await fetch(`${tokenBase}/api/stats`);
    assert.equal(refused.status, 401);
    const { page, errors, close } = await openPage(scenes.browser, `${tokenBase}/?token=${TOKEN}`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("rapidai.token")), TOKEN);
    await page.waitForFunction(
      () => document.querySelector('[data-status="completed"] .count-value')?.textContent !== "—",
    );

    const id = await enqueueFromForm(page, "fib", "[20]");
    await waitForRowStatus(page, id, "completed");
    await row(page, id).click();
    await page.locator("#detail-body pre.ok").waitFor();
    assert.equal((await page.textContent("#detail-body pre.ok"))?.trim(), "6765");
    // The chart's script came with the token too.
    assert.equal(await page.locator("#chart .uplot").count(), 1);

    assert.deepEqual(errors, []);
    await close();
  });

  test("when the service stops accepting the token, the page asks for the new one and goes on with it", async () => {
    const current = await fresh({ token: TOKEN });
    const tokenBase = current.base;
    const { page, errors, close } = await openPage(scenes.browser, `${tokenBase}/?token=${TOKEN}`);
    // The service restarts on the same port with another token.
    const port = Number(new URL(tokenBase).port);
    await current.app.close();
    current.app = createService({
      queue: current.queue,
      tasks: DEMO_TASKS,
      token: NEW_TOKEN,
      processMetrics: false,
    });
    await current.app.listen({ port, host: "127.0.0.1" });

    await page.locator("#token-dialog[open]").waitFor();
    assert.match((await page.textContent("#token-reason")) ?? "", /did not accept/);
    await page.fill("#token-dialog input[name=token]", NEW_TOKEN);
    await page.click("#token-dialog button[type=submit]");
    await page.waitForURL(`${tokenBase}/?token=${NEW_TOKEN}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("rapidai.token")), NEW_TOKEN);
    const id = await enqueueFromForm(page, "fib", "[10]");
    await waitForRowStatus(page, id, "completed");

    // The browser itself logs the requests refused (401) or made while the
    // service was down (the page polls while its stream is down; a kept-alive
    // socket the old service closed shows as ERR_SOCKET_NOT_CONNECTED); nothing else is.
    assert.deepEqual(
      errors.filter(
        (e) => !/401|EventSource|ERR_CONNECTION_(REFUSED|RESET)|ERR_SOCKET_NOT_CONNECTED/.test(e),
      ),
      [],
    );
    await close();
  });
});
