/**
 * The package as a user gets it: `npm pack`, installed into a fresh project,
 * used from JavaScript (ESM), TypeScript (type-checked with the shipped
 * declarations, then compiled) and CommonJS (`require` of an ES module,
 * which Node runs unflagged from 20.19 and 22.12). Each runs jobs on threads.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { lastJson, run } from "./child.js";

const REPO = resolve(new URL(".", import.meta.url).pathname, "../../..");
const TSC = join(REPO, "node_modules", "typescript", "bin", "tsc");

const ESM_TASKS = `import { threadId } from "node:worker_threads";
import { background } from "rapidai/background";
export const square = background({ maxRetries: 0 })(function square(x) {
  return { value: x * x, threadId };
});
`;

const ESM_MAIN = (tasks: string) => `import { getQueue } from "rapidai/background";
import { square } from "${tasks}";
const id = await square.enqueue(7);
const done = await square.waitFor(id, { timeoutMs: 20000 });
await getQueue().close();
console.log(JSON.stringify({ status: done.status, result: done.result, error: done.error }));
`;

const TS_TASKS = `import { threadId } from "node:worker_threads";
import { background, currentJob } from "rapidai/background";
export const squareTs = background({ maxRetries: 0 })(function squareTs(x: number): { value: number; threadId: number } {
  currentJob().progress(0.5);
  return { value: x * x, threadId };
});
`;

const TS_MAIN = `import { getQueue, type JobResult, JobStatus } from "rapidai/background";
import { squareTs } from "./tasks.js";
// @ts-expect-error: the arguments are typed from the task's function.
void (() => squareTs.enqueue("seven"));
const id: string = await squareTs.enqueue(7);
const done: JobResult<{ value: number; threadId: number }> = await squareTs.waitFor(id, { timeoutMs: 20000 });
const ok: boolean = done.status === JobStatus.COMPLETED;
await getQueue().close();
console.log(JSON.stringify({ status: done.status, result: done.result, error: done.error, ok }));
`;

const CJS_TASKS = `const { threadId } = require("node:worker_threads");
const { background } = require("rapidai/background");
exports.cube = background({ maxRetries: 0 })(function cube(x) {
  return { value: x * x * x, threadId };
});
`;

const CJS_MAIN = `const { getQueue } = require("rapidai/background");
const { cube } = require("./tasks.cjs");
(async () => {
  const id = await cube.enqueue(3);
  const done = await cube.waitFor(id, { timeoutMs: 20000 });
  await getQueue().close();
  console.log(JSON.stringify({ status: done.status, result: done.result, error: done.error }));
})();
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    outDir: "build",
    rootDir: "src",
    // This checkout's Node types: the project installs none of its own.
    typeRoots: [join(REPO, "node_modules", "@types")],
    types: ["node"],
  },
  include: ["src"],
};

interface Outcome {
  status: string;
  result?: { value: number; threadId: number };
  error?: string;
}

let work: string;
let app: string;
let tarball: string;

function write(path: string, text: string): void {
  writeFileSync(join(app, path), text);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "rapidai-pack-"));
  app = join(work, "app");
  // Without scripts: the tests run on the build `npm test` made, and a
  // prepack build would rewrite dist/ under the other tests.
  const packed = await run(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
    {
      cwd: REPO,
    },
  );
  assert.equal(packed.code, 0, packed.stderr);
  tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  mkdirSync(join(app, "src"), { recursive: true });
  write("package.json", JSON.stringify({ name: "app", private: true, type: "module" }));
  const installed = await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball],
    { cwd: app, timeoutMs: 240_000 },
  );
  assert.equal(installed.code, 0, installed.stderr);
});

after(() => rmSync(work, { recursive: true, force: true }));

function assertSquared(stdout: string, value: number): void {
  const outcome = lastJson<Outcome>(stdout);
  assert.equal(outcome.status, "completed", outcome.error);
  assert.equal(outcome.result?.value, value);
  assert.ok((outcome.result?.threadId ?? 0) > 0, "the job ran on a worker thread");
}

describe("the packed package, installed into a fresh project", () => {
  it("ships no source map that points to a file it does not contain", async () => {
    const listed = await run("tar", ["-tzf", tarball], { cwd: work });
    const files = new Set(listed.stdout.trim().split("\n"));
    assert.ok(files.has("package/LICENSE"));
    assert.ok(files.has("package/dist/src/background.js"));
    let maps = 0;
    for (const file of files) {
      if (!file.endsWith(".map")) continue;
      maps++;
      const installed = join(app, "node_modules", "rapidai", file.slice("package/".length));
      const map = JSON.parse(readFileSync(installed, "utf8")) as { sources: string[] };
      for (const source of map.sources) {
        const target = normalize(join(dirname(installed), source));
        assert.ok(existsSync(target), `${file} points to ${source}, which is not shipped`);
      }
    }
    assert.ok(maps > 0);
  });

  it("runs a JavaScript (ESM) consumer's jobs on threads", async () => {
    write("tasks.mjs", ESM_TASKS);
    write("main.mjs", ESM_MAIN("./tasks.mjs"));
    const ran = await run(process.execPath, ["main.mjs"], { cwd: app });
    assert.equal(ran.code, 0, ran.stderr);
    assertSquared(ran.stdout, 49);
  });

  it("type-checks and runs a TypeScript consumer with the shipped declarations", async () => {
    write("src/tasks.ts", TS_TASKS);
    write("src/main.ts", TS_MAIN);
    write("tsconfig.json", JSON.stringify(TSCONFIG));
    const compiled = await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: app });
    assert.equal(compiled.code, 0, compiled.stdout + compiled.stderr);
    const ran = await run(process.execPath, ["build/main.js"], { cwd: app });
    assert.equal(ran.code, 0, ran.stderr);
    assertSquared(ran.stdout, 49);
    assert.equal(lastJson<{ ok: boolean }>(ran.stdout).ok, true);
  });

  const requireEsm = (process.features as { require_module?: boolean }).require_module === true;
  it("runs a CommonJS consumer's jobs on threads, through require()", {
    skip: requireEsm
      ? false
      : `require() of ES modules needs Node 20.19+ or 22.12+ (this is ${process.version})`,
  }, async () => {
    write("tasks.cjs", CJS_TASKS);
    write("main.cjs", CJS_MAIN);
    const ran = await run(process.execPath, ["main.cjs"], { cwd: app });
    assert.equal(ran.code, 0, ran.stderr);
    assertSquared(ran.stdout, 27);
  });
});
