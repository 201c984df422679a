import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import { tokenMatches } from "../../src/service/auth.js";
import "../../src/demo/tasks.js";
import { closeQueue, type RunningService, readEvents, request, startService } from "./harness.js";

const TOKEN = "s3cret-token-for-tests";
const queue = getQueue("memory", { threads: 1 });
const page = mkdtempSync(join(tmpdir(), "rapidai-page-"));
writeFileSync(join(page, "index.html"), "<!doctype html><title>page</title>");
writeFileSync(join(page, "app.js"), "export {};");
let svc: RunningService;

before(async () => {
  svc = await startService({ queue, token: TOKEN, dashboardDir: page });
});
after(async () => {
  await svc.close();
  await closeQueue(queue);
  rmSync(page, { recursive: true, force: true });
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe("bearer token", () => {
  test("every route answers 401 without a token, before reading the body", async () => {
    const routes: [string, string, unknown?][] = [
      ["GET", "/jobs"],
      ["GET", "/jobs/abc"],
      ["DELETE", "/jobs/abc"],
      ["POST", "/jobs/fib", { args: ["x".repeat(2 * 1024 * 1024)] }],
      ["GET", "/api/stats"],
      ["GET", "/metrics"],
      ["GET", "/events"],
      ["GET", "/"],
      ["GET", "/dashboard/app.js"],
      ["GET", "/no-such-route"],
      ["POST", "/jobs/abc/retry"],
      ["POST", "/jobs/abc/promote"],
      ["DELETE", "/jobs/abc?remove=true"],
      ["GET", "/jobs/abc/logs"],
      ["GET", "/queue"],
      ["POST", "/queue/pause"],
      ["POST", "/queue/resume"],
      ["POST", "/queue/clean", { status: "completed" }],
      ["GET", "/schedules"],
    ];
    for (const [method, path, body] of routes) {
      const a = await request(`${svc.base}${path}`, { method, body });
      assert.equal(a.status, 401, `${method} ${path}`);
      assert.deepEqual(a.body, { error: "Missing bearer token" });
      assert.match(a.headers.get("www-authenticate") ?? "", /^Bearer/);
    }
  });

  test("a browser opening / without the token gets a 401 sign-in page, not JSON", async () => {
    const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
    const a = await request(`${svc.base}/`, { headers: html });
    assert.equal(a.status, 401);
    assert.match(a.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(a.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.match(a.text, /<form id="login-form" method="get" action="\/">/);
    assert.match(a.text, /<input id="login-token" type="password" name="token"/);
    assert.match(a.text, /This service needs an access token\./);
    assert.doesNotMatch(a.text, /<title>page<\/title>/, "the dashboard itself is not served");
    const wrong = await request(`${svc.base}/?token=nope`, { headers: html });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /did not accept this token/);
    const right = await request(`${svc.base}/?token=${TOKEN}`, { headers: html });
    assert.equal(right.status, 200);
    assert.match(right.text, /<title>page<\/title>/);
    // Only the page: the API answers a browser in JSON as before.
    const api = await request(`${svc.base}/api/stats`, { headers: html });
    assert.equal(api.status, 401);
    assert.deepEqual(api.body, { error: "Missing bearer token" });
  });

  test("a wrong token, or another scheme, is a 401", async () => {
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      "Bearer ",
      `Basic ${TOKEN}`,
      TOKEN,
      `Bearer ${TOKEN} extra`,
    ]) {
      const a = await request(`${svc.base}/api/stats`, { headers: { authorization } });
      assert.equal(a.status, 401, authorization);
      assert.deepEqual(a.body, { error: "Invalid token" });
    }
  });

  test("the right token opens every route", async () => {
    const stats = await request(`${svc.base}/api/stats`, { headers: bearer(TOKEN) });
    assert.equal(stats.status, 200);
    const post = await request(`${svc.base}/jobs/fib`, {
      body: { args: [3] },
      headers: bearer(TOKEN),
    });
    assert.equal(post.status, 202);
    const metrics = await request(`${svc.base}/metrics`, { headers: bearer(TOKEN) });
    assert.equal(metrics.status, 200);
    const home = await request(`${svc.base}/`, { headers: bearer(TOKEN) });
    assert.equal(home.status, 200);
    assert.match(home.text, /<title>page<\/title>/);
  });

  test("?token= opens the event stream, the page and its assets", async () => {
    const stream = await readEvents(
      `${svc.base}/events?token=${TOKEN}`,
      (events) => events.length > 0,
    );
    assert.equal(stream.status, 200);
    assert.equal((await request(`${svc.base}/?token=${TOKEN}`)).status, 200);
    assert.equal((await request(`${svc.base}/dashboard/app.js?token=${TOKEN}`)).status, 200);
    const wrong = await readEvents(`${svc.base}/events?token=nope`, () => true);
    assert.equal(wrong.status, 401);
  });

  test("?token= does not open the JSON API, which takes the header only", async () => {
    for (const path of ["/jobs", "/api/stats", "/metrics"]) {
      const a = await request(`${svc.base}${path}?token=${TOKEN}`);
      assert.equal(a.status, 401, path);
    }
  });

  test("a bad URL encoding or an over-long path without the token is a 401 too, not Fastify's answer echoing the URL", async () => {
    const long = `/jobs/${"a".repeat(300)}`;
    for (const path of ["/jobs/%ff", "/dashboard/%E0%A4%A", long, "/no-such/%zz"]) {
      for (const query of ["", `?token=${TOKEN}`, "?token=wrong"]) {
        const a = await request(`${svc.base}${path}${query}`);
        assert.equal(a.status, 401, `${path}${query}`);
        assert.deepEqual(a.body, { error: "Missing bearer token" }, `${path}${query}`);
        assert.match(a.headers.get("www-authenticate") ?? "", /^Bearer/);
        assert.equal(a.headers.get("x-content-type-options"), "nosniff");
      }
      const wrong = await request(`${svc.base}${path}`, { headers: bearer("wrong") });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, { error: "Invalid token" });
    }
  });

  test("with the token, a bad URL encoding is a 400 and an over-long path a 414, neither echoing the URL", async () => {
    const bad = await request(`${svc.base}/jobs/%ff`, { headers: bearer(TOKEN) });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { error: "Malformed URL: bad percent-encoding" });
    const path = `/jobs/${"b".repeat(300)}`;
    const long = await request(`${svc.base}${path}`, { headers: bearer(TOKEN) });
    assert.equal(long.status, 414);
    assert.deepEqual(long.body, { error: "Path too long" });
    assert.doesNotMatch(long.text, /bbbb/);
  });

  test("tokens are compared by digest, whatever their lengths", () => {
    const expected = createHash("sha256").update(TOKEN).digest();
    assert.equal(tokenMatches(TOKEN, expected), true);
    assert.equal(tokenMatches("", expected), false);
    assert.equal(tokenMatches(`${TOKEN}${TOKEN}`, expected), false);
  });
});
