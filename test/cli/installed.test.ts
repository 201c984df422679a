/**
 * The command line as an installed package has it: the files package.json
 * ships ("files": dist/src, dist/workers, docs, README), no benchmarks, no
 * sources. Built by copying those files into a temporary directory, with
 * this checkout's node_modules for the dependencies.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli } from "../service/harness.js";

/** The checkout: dist/test/cli → the package root. */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
let installed: string;

before(() => {
  installed = mkdtempSync(join(tmpdir(), "rapidai-installed-"));
  for (const path of ["package.json", "README.md", "docs", "dist/src", "dist/workers"]) {
    cpSync(join(ROOT, path), join(installed, path), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(installed, "node_modules"), "dir");
});
after(() => rmSync(installed, { recursive: true, force: true }));

const installedCli = (args: string[]) => runCli(args, {}, join(installed, "dist/src/cli/main.js"));

describe("rapidai-jobs in an installed package", () => {
  test("--help names the documents by their path in the package, and they are there", async () => {
    const r = await installedCli(["--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const doc of ["docs/service.md", "docs/api/README.md", "README.md"]) {
      const file = join(installed, doc);
      assert.ok(r.stdout.includes(`  ${file}\n`), `${file} in:\n${r.stdout}`);
      assert.ok(existsSync(file), file);
    }
    assert.doesNotMatch(r.stdout, /Documentation: docs\//);
  });

  test("bench says the benchmarks come with the source repository, not to build", async () => {
    const r = await installedCli(["bench"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the benchmarks come with the source repository/);
    assert.match(r.stderr, /`npm install` and `npm run bench`/);
    assert.ok(r.stderr.includes(join(installed, "docs/benchmarks.md")), r.stderr);
    assert.doesNotMatch(r.stderr, /npm run build/);
  });
});

describe("rapidai-jobs in the source repository", () => {
  test("--help names the checkout's documents", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0);
    assert.ok(r.stdout.includes(`  ${join(ROOT, "docs/service.md")}\n`), r.stdout);
    assert.ok(r.stdout.includes(`  ${join(ROOT, "docs/api/README.md")}\n`), r.stdout);
  });

  test("worker --help says --prefix must match the app's prefix", async () => {
    const r = await runCli(["worker", "--help"]);
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /--prefix <prefix>\n\s+Key prefix of the queue[^\n]*It must match the prefix the app enqueues under/,
    );
    assert.match(r.stdout, /the app's jobs stay pending/);
  });
});
