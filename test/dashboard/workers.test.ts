/**
 * The dashboard's Workers card, in a real browser: it lists the process
 * running the queue's jobs (host, pid, threads, version, heartbeat), from
 * `GET /workers`.
 */
import assert from "node:assert/strict";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { InMemoryQueue } from "rapidai/background";
import { createService } from "rapidai/service";
import { launchChromium, suiteWithChromium } from "../support/chromium.js";
import { DEMO_TASKS, listen, openPage } from "./dashboard-scene.js";

suiteWithChromium("the dashboard's Workers card", ({ before, after, test }) => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test("shows each process running the queue's jobs, with its pid, threads and heartbeat", async () => {
    const queue = new InMemoryQueue({ threads: 3 });
    await queue.start();
    const app = createService({ queue, tasks: DEMO_TASKS, processMetrics: false });
    const base = await listen(app);
    const { page, errors, close } = await openPage(browser, base);
    try {
      const row = page.locator(`#workers-body tr:has(td:text-is("${process.pid}"))`);
      await row.waitFor();
      const cells = await row.locator("td").allTextContents();
      assert.equal(cells[0], hostname());
      assert.equal(cells[1], String(process.pid));
      assert.equal(cells[3], "3", "threads");
      assert.match(cells[7]!, /^\d+ s ago$/, "heartbeat age");
      assert.match(
        (await page.locator("#workers-summary").textContent()) ?? "",
        /1 process · 3 threads/,
      );
      const shot = join(tmpdir(), "rapidai-dashboard-workers.png");
      await page.locator("#workers-card").screenshot({ path: shot });
      console.log(`workers card screenshot: ${shot}`);
      assert.deepEqual(errors, []);
    } finally {
      await close();
      await app.close();
      await queue.close();
    }
  });
});
