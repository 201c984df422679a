#!/usr/bin/env node
// Regenerates the API reference into a temporary directory and compares it
// with docs/api/: CI fails when the TSDoc changed and `npm run docs` was not
// run, or when a public name lost its example (the TypeDoc plugin errors).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const committed = "docs/api";
const fresh = mkdtempSync(join(tmpdir(), "rapidai-api-"));

function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

try {
  const typedoc = spawnSync("npx", ["typedoc", "--out", fresh, "--logLevel", "Warn"], {
    stdio: "inherit",
  });
  if (typedoc.status !== 0) {
    console.error("docs:check: TypeDoc failed (see above)");
    process.exit(1);
  }
  const want = files(fresh);
  const have = files(committed);
  const differ = [
    ...want.filter((f) => !have.includes(f)).map((f) => `missing: ${join(committed, f)}`),
    ...have.filter((f) => !want.includes(f)).map((f) => `stale: ${join(committed, f)}`),
    ...want
      .filter((f) => have.includes(f))
      .filter(
        (f) => readFileSync(join(fresh, f), "utf8") !== readFileSync(join(committed, f), "utf8"),
      )
      .map((f) => `out of date: ${join(committed, f)}`),
  ];
  if (differ.length > 0) {
    console.error(
      `docs:check: the API reference does not match the sources:\n  ${differ.join("\n  ")}`,
    );
    console.error("run `npm run docs` and commit docs/api/");
    process.exit(1);
  }
  console.log(`docs:check: ${committed} is up to date (${want.length} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
