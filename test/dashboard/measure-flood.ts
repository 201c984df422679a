/**
 * Not a test: measures how the dashboard copes with many jobs, in headless
 * Chromium, and prints the figures quoted in docs/dashboard.md.
 *
 *   npm run build && node dist/test/dashboard/measure-flood.js [jobs]
 *
 * The service runs in a child process (so the browser driver does not share
 * its event loop): two long sleep jobs hold both worker threads while
 * `jobs` fib(1) jobs are queued behind them. The page is opened with all of
 * them queued, paged, and then watched while they all run at once (a flood
 * of status events), before its counters are compared with /api/stats.
 */
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { getQueue } from "rapidai/background";
import { createService } from "rapidai/service";
import { launchChromium } from "../support/chromium.js";

const jobs = Number(process.argv[3] === undefined ? (process.argv[2] ?? 100_000) : process.argv[3]);
const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];

/** The child: a service over a memory queue, driven by lines on stdin. */
async function serve(): Promise<void> {
  const queue = getQueue("memory", { threads: 2 });
  const demo = await import("../../src/demo/tasks.js");
  const app = createService({ queue, processMetrics: false });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const blockers = [await demo.sleep.enqueue(600_000), await demo.sleep.enqueue(600_000)];
  const t = performance.now();
  for (let i = 0; i < jobs; i++) await demo.fib.enqueue(1);
  console.error(`service: ${jobs} jobs enqueued in ${(performance.now() - t).toFixed(0)} ms`);
  console.log(
    JSON.stringify({ base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }),
  );
  createInterface({ input: process.stdin }).on("line", async (line) => {
    if (line === "release") {
      const s = performance.now();
      for (const id of blockers) await queue.cancel(id);
      await queue.onIdle();
      console.error(`service: ${jobs} jobs ran in ${(performance.now() - s).toFixed(0)} ms`);
      console.log(JSON.stringify({ idle: true }));
    } else if (line === "quit") {
      await app.close();
      await queue.close({ timeoutMs: 1000 });
      process.exit(0);
    }
  });
}

const ms = (from: number) => `${(performance.now() - from).toFixed(0)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)] ?? 0;

async function measure(): Promise<void> {
  const child = spawn(process.execPath, [process.argv[1]!, "--serve", String(jobs)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = () =>
    new Promise<any>((resolve) => lines.once("line", (l) => resolve(JSON.parse(l))));
  const { base } = await next();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.addInitScript(() => {
      const w = window as any;
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longTasks.push(e.duration);
      }).observe({ type: "longtask", buffered: true });
      // How late a 100 ms timer fires: what a click waits for at worst.
      w.lateness = [];
      const tick = () => {
        const due = performance.now() + 100;
        setTimeout(() => {
          w.lateness.push(performance.now() - due);
          tick();
        }, 100);
      };
      tick();
      // Which way the page followed: live events, busy (stream paused), or reconnecting.
      w.states = [];
      addEventListener("DOMContentLoaded", () => {
        const conn = document.getElementById("connection")!;
        new MutationObserver(() => w.states.push(conn.dataset.state)).observe(conn, {
          attributes: true,
          attributeFilter: ["data-state"],
        });
      });
    });

    let t = performance.now();
    await page.goto(`${base}/`);
    await page.waitForFunction(
      () =>
        document.querySelectorAll("#jobs-body tr").length === 25 &&
        document.querySelector('[data-status="pending"] .count-value')?.textContent !== "—",
    );
    console.log(
      `page ready with ${jobs} jobs queued: ${ms(t)} (${await page.textContent("#page-info")})`,
    );
    await page.locator('#connection[data-state="live"]').waitFor();

    t = performance.now();
    await page.selectOption("#filter-status", "pending");
    for (let i = 0; i < 3; i++) {
      const before = await page.textContent("#page-info");
      await page.click("#page-next");
      await page.waitForFunction(
        (b) => document.querySelector("#page-info")?.textContent !== b,
        before,
      );
    }
    console.log(`status filter and 3 pages on: ${ms(t)} (${await page.textContent("#page-info")})`);
    await page.selectOption("#filter-status", "");

    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const metrics = async () => {
      const list = (await cdp.send("Performance.getMetrics")).metrics;
      const get = (name: string) => list.find((m) => m.name === name)?.value ?? 0;
      return {
        task: get("TaskDuration"),
        script: get("ScriptDuration"),
        layout: get("LayoutDuration"),
      };
    };
    await page.evaluate(() => {
      (window as any).lateness = [];
      (window as any).longTasks = [];
    });
    const m0 = await metrics();
    t = performance.now();
    child.stdin!.write("release\n");
    const idle = next();
    await new Promise((r) => setTimeout(r, 1000));
    const f = performance.now();
    await page.selectOption("#filter-status", "completed");
    await page.waitForFunction(() => {
      const trs = Array.from(document.querySelectorAll<HTMLElement>("#jobs-body tr"));
      return trs.length > 0 && trs.every((tr) => tr.dataset.status === "completed");
    });
    const filterDuringFlood = ms(f);
    await page.selectOption("#filter-status", "");
    await idle;
    const m1 = await metrics();
    console.log(`all ${jobs} jobs ran (a flood of status events) in ${ms(t)}`);
    console.log(
      `  renderer main thread busy ${(m1.task - m0.task).toFixed(1)} s, ` +
        `of which script ${(m1.script - m0.script).toFixed(1)} s, layout ${(m1.layout - m0.layout).toFixed(2)} s`,
    );
    console.log(`  status filter changed during the flood: shown after ${filterDuringFlood}`);
    const late: number[] = await page.evaluate(() => (window as any).lateness);
    const long: number[] = await page.evaluate(() => (window as any).longTasks);
    console.log(
      `  100 ms timer lateness: median ${median(late).toFixed(0)} ms, p95 ${quantile(late, 0.95).toFixed(0)} ms, ` +
        `max ${Math.max(0, ...late).toFixed(0)} ms; long tasks ${long.length}, longest ${Math.max(0, ...long).toFixed(0)} ms`,
    );

    t = performance.now();
    const stats = (await (await fetch(`${base}/api/stats`)).json()) as {
      counts: Record<string, number>;
    };
    const want = STATUSES.map((s) => (stats.counts[s] ?? 0).toLocaleString("en-US")).join(" | ");
    await page.waitForFunction(
      ([w, statuses]) =>
        (statuses as string[])
          .map((s) => document.querySelector(`[data-status="${s}"] .count-value`)?.textContent)
          .join(" | ") === w,
      [want, STATUSES] as const,
      { timeout: 20_000 },
    );
    console.log(`counters equal /api/stats (${want}) ${ms(t)} after the queue went idle`);
    const states: string[] = await page.evaluate(() => (window as any).states);
    console.log(`connection states: ${states.join(" → ")}`);
    console.log(`console errors: ${errors.length === 0 ? "none" : errors.join("; ")}`);
  } finally {
    await browser.close();
    child.stdin!.write("quit\n");
  }
}

if (process.argv[2] === "--serve") await serve();
else await measure();
