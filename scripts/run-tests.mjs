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
const result = spawnSync(
  process.execPath,
  // --test-force-exit: a file whose tests are done exits even if a client it
  // left behind would keep reconnecting, so a failed test fails the run
  // instead of hanging it.
  ["--test", "--test-concurrency=2", "--test-timeout=300000", "--test-force-exit", ...selected],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
