#!/usr/bin/env node
// Runs every compiled test file with node's test runner. Tests that need
// Redis or Chromium find their own binaries (see test/support/); without
// them they skip with one loud line, unless CI is set, where they fail.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = "dist/test";
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "fixtures" && name !== "support") walk(path);
    } else if (name.endsWith(".test.js")) files.push(path);
  }
};
walk(root);
files.sort();
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
// No --test-force-exit: with files run in parallel it drops the tail of a
// file's results from the report and still exits 0 (nodejs/node#64833; here
// a suite of 450 tests reported 437 and 444 on Node 22, 432 on Node 26), so a failure there
// would go unseen. A file that leaves a handle open would hang the run
// instead: the watchdog below ends it, loudly, long after a healthy run.
const WATCHDOG_MS = 30 * 60_000;
const result = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=2", "--test-timeout=300000", ...selected],
  { stdio: "inherit", timeout: WATCHDOG_MS, killSignal: "SIGTERM" },
);
if (result.signal !== null) {
  console.error(
    `run-tests: the test run was still going after ${WATCHDOG_MS / 60_000} min and was killed (${result.signal}): a test file left something running`,
  );
  process.exit(1);
}
process.exit(result.status ?? 1);
