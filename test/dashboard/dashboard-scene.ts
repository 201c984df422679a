/**
 * What the dashboard's browser tests share: one test's own queue and
 * service (a scene), a page that records its errors, and readers of the
 * job table.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { InMemoryQueue } from "rapidai/background";
import { createService } from "rapidai/service";
import "../../src/demo/tasks.js";
import { launchChromium } from "../support/chromium.js";

export type Service = ReturnType<typeof createService>;

/** The demo tasks, which every scene's service accepts. */
export const DEMO_TASKS = ["fail", "fib", "flaky", "primes", "sleep"];

export async function listen(app: Service): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** How {@link openPage} sets the page up: its size, and anything to do before it loads. */
export interface PageOptions {
  /** @default 1400 × 1000 */
  viewport?: { width: number; height: number };
  /** Runs before the page is opened (e.g. to set the browser's clock). */
  beforeLoad?: (page: Page) => Promise<void>;
}

/** A page that records console errors and uncaught exceptions. */
export async function openPage(browser: Browser, url: string, options: PageOptions = {}) {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1400, height: 1000 },
  });
  const page = await context.newPage();
  await options.beforeLoad?.(page);
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on("console", (m) => {
    // A refused fetch logs "Failed to load resource" without its URL: add it.
    const url = m.location().url;
    if (m.type() === "error") errors.push(url ? `${m.text()} (${url})` : m.text());
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(url);
  // Ready: the event stream is open and the form offers the tasks.
  await page.locator('#connection[data-state="live"]').waitFor();
  await page.locator('#enqueue-task option[value="fib"]').waitFor({ state: "attached" });
  return { page, errors, close: () => context.close() };
}

/** Enqueues from the page's form and returns the new job's id, as the form shows it. */
export async function enqueueFromForm(page: Page, task: string, args: string): Promise<string> {
  const before = await page.evaluate(
    () => document.querySelector("#enqueue-message.success .job-link")?.textContent ?? "",
  );
  await page.selectOption("#enqueue-task", task);
  await page.fill("#enqueue-args", args);
  await page.click("#enqueue-submit");
  const handle = await page.waitForFunction((old) => {
    const now = document.querySelector("#enqueue-message.success .job-link")?.textContent ?? "";
    return now !== "" && now !== old ? now : false;
  }, before);
  const id = (await handle.jsonValue()) as string;
  assert.match(id, /^[\w-]+$/);
  return id;
}

export const row = (page: Page, id: string) => page.locator(`#jobs-body tr[data-job-id="${id}"]`);

export async function waitForRowStatus(page: Page, id: string, status: string): Promise<void> {
  await page.locator(`#jobs-body tr[data-job-id="${id}"][data-status="${status}"]`).waitFor();
}

/** The statuses of the rows on screen, once the table settled on `expected` for all. */
export async function rowStatuses(page: Page): Promise<string[]> {
  return page.$$eval("#jobs-body tr", (trs) =>
    trs.map((tr) => (tr as HTMLElement).dataset.status ?? ""),
  );
}

export async function rowIds(page: Page): Promise<string[]> {
  return page.$$eval("#jobs-body tr", (trs) =>
    trs.map((tr) => (tr as HTMLElement).dataset.jobId ?? ""),
  );
}

/** One test's own queue and service, and API helpers bound to it. */
export interface Scene {
  queue: InMemoryQueue;
  app: Service;
  base: string;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  enqueue(task: string, args: unknown[]): Promise<string>;
  close(): Promise<void>;
}

/** A fresh in-memory queue on two threads and a service over it on a free port. */
export async function openScene(
  options: { token?: string; tasks?: string[] } = {},
): Promise<Scene> {
  const queue = new InMemoryQueue({ threads: 2 });
  const app = createService({
    queue,
    tasks: options.tasks ?? DEMO_TASKS,
    processMetrics: false,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  const base = await listen(app);
  const auth: Record<string, string> =
    options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const scene: Scene = {
    queue,
    app,
    base,
    async api(path, init = {}) {
      const response = await fetch(`${base}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
      });
      return { status: response.status, body: (await response.json()) as any };
    },
    async enqueue(task, args) {
      const { status, body } = await scene.api(`/jobs/${task}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ args }),
      });
      assert.equal(status, 202);
      return body.job_id;
    },
    async close() {
      await scene.app.close();
      await queue.close({ timeoutMs: 1000 });
    },
  };
  return scene;
}

type Hook = (fn: () => Promise<void>) => void;

/**
 * One browser for a suite's tests and a fresh scene per test: `fresh()`
 * closes the previous test's scene (left open when that test failed) and
 * opens a new one; both close after the suite.
 */
export function browserScenes(
  before: Hook,
  after: Hook,
  defaults: { token?: string; tasks?: string[] } = {},
) {
  let browser: Browser | undefined;
  let scene: Scene | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await scene?.close();
    await browser?.close();
  });
  return {
    get browser(): Browser {
      if (browser === undefined) throw new Error("the browser starts before the tests");
      return browser;
    },
    async fresh(options: { token?: string } = {}): Promise<Scene> {
      await scene?.close();
      scene = await openScene({ ...defaults, ...options });
      return scene;
    },
  };
}
