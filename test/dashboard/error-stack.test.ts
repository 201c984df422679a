/**
 * A failed job's stack in the dashboard's detail drawer, in a real headless
 * Chromium against the real service: folded under the error, opened on a
 * click, and absent for a job that did not fail. The screenshot goes to
 * /tmp/rapidai-dashboard/error-stack.png for a person to look at.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { suiteWithChromium } from "../support/chromium.js";
import { browserScenes, openPage, row, waitForRowStatus } from "./dashboard-scene.js";

const SHOTS = "/tmp/rapidai-dashboard";

suiteWithChromium("a failed job's stack in the dashboard", ({ before, after, test }) => {
  const scenes = browserScenes(before, after);

  test("the detail of a failed job shows its stack under the error, folded until asked", async () => {
    const scene = await scenes.fresh();
    const { page, errors, close } = await openPage(scenes.browser, `${scene.base}/`);
    const failing = await scene.enqueue("fail", ["stack on purpose"]);
    const fine = await scene.enqueue("fib", [10]);
    await waitForRowStatus(page, failing, "failed");

    await row(page, failing).click();
    await page.locator("#detail-body .status-failed").waitFor();
    const stack = page.locator("#detail-stack");
    await stack.waitFor({ state: "attached" });
    assert.equal(await stack.isVisible(), false, "folded at first");
    await page.click("#detail-body details.error-stack summary");
    await stack.waitFor({ state: "visible" });
    const text = (await stack.textContent()) ?? "";
    assert.match(text, /^Error: stack on purpose\n\s+at .*\bfail\b/);
    assert.equal(
      (await page.locator("#detail-body pre.bad").first().textContent())?.trim(),
      "stack on purpose",
      "the error line is the message alone",
    );
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/error-stack.png`, fullPage: true });

    await page.click("#detail-close");
    await waitForRowStatus(page, fine, "completed");
    await row(page, fine).click();
    await page.locator("#detail-body .status-completed").waitFor();
    assert.equal(await page.locator("#detail-stack").count(), 0);
    assert.deepEqual(errors, []);
    await close();
  });
});
