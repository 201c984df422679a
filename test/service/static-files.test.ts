import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import { closeQueue, type RunningService, startService } from "./harness.js";

const queue = getQueue("memory", { threads: 1 });
const root = mkdtempSync(join(tmpdir(), "rapidai-static-"));
const page = join(root, "public");
mkdirSync(join(page, "vendor"), { recursive: true });
writeFileSync(join(page, "index.html"), "<!doctype html><title>dash</title>");
writeFileSync(join(page, "app.js"), "export const app = 1;");
writeFileSync(join(page, "vendor", "lib.css"), "body{}");
writeFileSync(join(page, ".env"), "SECRET=1");
writeFileSync(join(page, "notes.sh"), "echo hi");
writeFileSync(join(root, "secret.txt"), "outside the page");
symlinkSync(join(root, "secret.txt"), join(page, "link.txt"));
let svc: RunningService;

before(async () => {
  svc = await startService({ queue, tasks: [], dashboardDir: page });
});
after(async () => {
  await svc.close();
  await closeQueue(queue);
  rmSync(root, { recursive: true, force: true });
});

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(
  path: string,
): Promise<{ status: number; type: string; body: string; headers: Record<string, unknown> }> {
  const { port } = new URL(svc.base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"]),
          body,
          headers: res.headers,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("dashboard files", () => {
  test("/ serves index.html with headers that keep a token out of Referer", async () => {
    const a = await rawGet("/");
    assert.equal(a.status, 200);
    assert.match(a.type, /^text\/html/);
    assert.equal(a.body, "<!doctype html><title>dash</title>");
    assert.equal(a.headers["referrer-policy"], "no-referrer");
    assert.equal(a.headers["x-content-type-options"], "nosniff");
    assert.equal(a.headers["x-frame-options"], "DENY");
  });

  test("/dashboard/* serves the page's files with their content types", async () => {
    const js = await rawGet("/dashboard/app.js");
    assert.equal(js.status, 200);
    assert.match(js.type, /^text\/javascript/);
    const css = await rawGet("/dashboard/vendor/lib.css");
    assert.equal(css.status, 200);
    assert.match(css.type, /^text\/css/);
  });

  test("nothing outside the directory, no dotfile, no other type, no directory is served", async () => {
    const attempts = [
      "/dashboard/../secret.txt",
      "/dashboard/%2e%2e/secret.txt",
      "/dashboard/..%2fsecret.txt",
      "/dashboard/vendor/..%2f..%2fsecret.txt",
      "/dashboard/%252e%252e/secret.txt",
      "/dashboard/..%5csecret.txt",
      "/dashboard/app.js%00.txt",
      "/dashboard/link.txt",
      "/dashboard/.env",
      "/dashboard/notes.sh",
      "/dashboard/vendor",
      "/dashboard/vendor/",
      "/dashboard/missing.js",
      "/dashboard/",
    ];
    for (const path of attempts) {
      const a = await rawGet(path);
      assert.ok(a.status === 404 || a.status === 400, `${path} answered ${a.status}`);
      assert.doesNotMatch(a.body, /outside the page|SECRET|echo hi/, path);
    }
  });
});

describe("without a built dashboard", () => {
  test("/ says the dashboard is not built, and the API still works", async () => {
    const bare = await startService({ queue, tasks: [], dashboardDir: join(root, "nowhere") });
    try {
      const home = await fetch(`${bare.base}/`);
      assert.equal(home.status, 200);
      assert.match(await home.text(), /dashboard is not built/);
      assert.equal((await fetch(`${bare.base}/dashboard/app.js`)).status, 404);
      assert.equal((await fetch(`${bare.base}/api/stats`)).status, 200);
    } finally {
      await bare.close();
    }
  });
});
