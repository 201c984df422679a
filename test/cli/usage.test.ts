import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { runCli } from "../service/harness.js";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));

describe("rapidai-jobs usage", { concurrency: true }, () => {
  test("--help lists the commands and exits 0", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0);
    for (const word of ["serve", "worker", "bench", "--version"])
      assert.match(r.stdout, new RegExp(word));
  });

  test("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  test("no command prints the usage and exits 2", async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: rapidai-jobs <command>/);
  });

  test("an unknown command exits 2 naming it", async () => {
    const r = await runCli(["srve"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "srve"/);
  });

  test("serve --help documents every flag with its environment variable and exits 0", async () => {
    const r = await runCli(["serve", "--help"]);
    assert.equal(r.code, 0);
    for (const [flag, env] of [
      ["--port", "PORT"],
      ["--host", "HOST"],
      ["--redis", "RAPIDAI_REDIS_URL"],
      ["--prefix", "RAPIDAI_PREFIX"],
      ["--token", "RAPIDAI_TOKEN"],
      ["--tasks", "RAPIDAI_TASKS"],
      ["--threads", "RAPIDAI_THREADS"],
      ["--body-limit", "RAPIDAI_BODY_LIMIT"],
      ["--shutdown-timeout", "RAPIDAI_SHUTDOWN_TIMEOUT_MS"],
    ]) {
      assert.match(r.stdout, new RegExp(`${flag} <`), flag);
      assert.match(r.stdout, new RegExp(`env ${env}\\b`), env);
    }
  });

  test("bench --help shows the runner's flags and exits 0 without running a benchmark", async () => {
    const r = await runCli(["bench", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: rapidai-jobs bench/);
    assert.match(r.stdout, /--smoke/);
  });

  test("bench passes its flags to the runner, which refuses an unknown one", async () => {
    const r = await runCli(["bench", "--no-such-flag"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--no-such-flag/);
  });

  test("an unknown flag exits 2 naming it", async () => {
    const r = await runCli(["serve", "--prot", "3000"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--prot/);
  });

  test("a flag without its value exits 2 naming it", async () => {
    const r = await runCli(["serve", "--port"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port/);
  });

  test("a bad value exits 2 naming the flag or the environment variable it came from", async () => {
    const flag = await runCli(["serve", "--port", "80a"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--port must be an integer from 0 to 65535 \(got "80a"\)/);
    const env = await runCli(["serve"], { PORT: "99999" });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /PORT must be an integer from 0 to 65535/);
    const threads = await runCli(["serve", "--threads", "0"]);
    assert.equal(threads.code, 2);
    assert.match(threads.stderr, /--threads/);
  });

  test("--prefix without --redis and a non-Redis URL exit 2", async () => {
    const prefix = await runCli(["serve", "--prefix", "app:"]);
    assert.equal(prefix.code, 2);
    assert.match(prefix.stderr, /--prefix only applies to a Redis queue/);
    const url = await runCli(["serve", "--redis", "http://localhost:6379"]);
    assert.equal(url.code, 2);
    assert.match(url.stderr, /--redis must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  test("a task module that cannot be imported exits 1 naming it", async () => {
    const r = await runCli(["serve", "--port", "0", "--tasks", "./no/such/tasks.js"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot import task module \.\/no\/such\/tasks\.js/);
  });
});
