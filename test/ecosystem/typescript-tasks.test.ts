/**
 * Task modules written in TypeScript run on worker threads: under tsx (its
 * command line, and `node --import tsx`), and with plain `node` where Node
 * strips types itself (Node 24 here, the binary .ci/run installs).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { lastJson, node24, run } from "./child.js";

const REPO = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../../..");

// Type annotations and an interface: a plain JavaScript loader rejects this file.
const TASKS = `import { threadId } from "node:worker_threads";
import { background } from "rapidai/background";

interface Doubled {
  value: number;
  threadId: number;
}

export const doubleTs = background({ maxRetries: 0 })(function doubleTs(x: number): Doubled {
  return { value: x * 2, threadId };
});
`;

// The tasks module is imported as ./tasks.js (TypeScript's convention, which
// tsx maps to tasks.ts) or as ./tasks.ts (what Node's own type stripping needs).
const service = (
  specifier: string,
) => `import { getQueue, type JobResult } from "rapidai/background";
import { doubleTs } from "${specifier}";

const ids: string[] = await Promise.all([1, 2, 3, 4].map((x) => doubleTs.enqueue(x)));
const results: JobResult[] = await Promise.all(ids.map((id) => doubleTs.waitFor(id, { timeoutMs: 20_000 })));
await getQueue().close();
console.log(JSON.stringify(results.map((r) => ({ status: r.status, result: r.result, error: r.error }))));
`;

interface Outcome {
  status: string;
  result?: { value: number; threadId: number };
  error?: string;
}

let project: string;

before(() => {
  project = mkdtempSync(join(tmpdir(), "rapidai-ts-"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  writeFileSync(join(project, "tasks.ts"), TASKS);
  writeFileSync(join(project, "service.ts"), service("./tasks.js"));
  writeFileSync(join(project, "service-native.ts"), service("./tasks.ts"));
  // This checkout stands in for the installed package, with its tsx.
  mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
  symlinkSync(REPO, join(project, "node_modules", "rapidai"));
  symlinkSync(join(REPO, "node_modules", "tsx"), join(project, "node_modules", "tsx"));
  symlinkSync("../tsx/dist/cli.mjs", join(project, "node_modules", ".bin", "tsx"));
});

after(() => rmSync(project, { recursive: true, force: true }));

function assertRanOnThreads(stdout: string, stderr: string): void {
  const outcomes = lastJson<Outcome[]>(stdout);
  assert.equal(outcomes.length, 4);
  for (const [i, o] of outcomes.entries()) {
    assert.equal(o.status, "completed", `${o.error ?? ""}\n${stderr}`);
    assert.equal(o.result?.value, (i + 1) * 2);
    // Thread 0 is the main thread: a job body ran on a worker thread.
    assert.ok((o.result?.threadId ?? 0) > 0, `ran on thread ${o.result?.threadId}`);
  }
}

describe("TypeScript task modules", () => {
  it("run on worker threads under `npx tsx service.ts`", async () => {
    const ran = await run("npx", ["--no", "tsx", "service.ts"], { cwd: project });
    assert.equal(ran.code, 0, ran.stderr);
    assertRanOnThreads(ran.stdout, ran.stderr);
  });

  it("run on worker threads under `node --import tsx service.ts`", async () => {
    const ran = await run(process.execPath, ["--import", "tsx", "service.ts"], { cwd: project });
    assert.equal(ran.code, 0, ran.stderr);
    assertRanOnThreads(ran.stdout, ran.stderr);
  });

  // Node 22.18+ strips types by default; 20 does not, and is not supported.
  const strips = Boolean((process.features as { typescript?: unknown }).typescript);
  it(`run on worker threads with plain \`node\` on this Node line (${process.version})`, {
    skip: strips ? false : `Node ${process.version} does not strip types`,
  }, async () => {
    const ran = await run(process.execPath, ["service-native.ts"], { cwd: project });
    assert.equal(ran.code, 0, ran.stderr);
    assertRanOnThreads(ran.stdout, ran.stderr);
  });

  const reason = node24.missing();
  it("run on worker threads with plain `node` on Node 24", { skip: reason }, async () => {
    const node = node24.binary()!;
    const ran = await run(node, ["service-native.ts"], { cwd: project, node });
    assert.equal(ran.code, 0, ran.stderr);
    assertRanOnThreads(ran.stdout, ran.stderr);
  });
});
