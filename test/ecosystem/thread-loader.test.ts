import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { loaderHint, loaderSpecifiers, threadPreloads } from "../../src/executor/thread-loader.js";

const REPO = resolve(new URL(".", import.meta.url).pathname, "../../..");
const TSX_LOADER = pathToFileURL(resolve(REPO, "node_modules/tsx/dist/loader.mjs")).href;
const TSX_API = pathToFileURL(resolve(REPO, "node_modules/tsx/dist/esm/api/index.mjs")).href;

describe("the worker threads' TypeScript loader", () => {
  it("reads --import and --loader in both spellings, and NODE_OPTIONS", () => {
    assert.deepEqual(
      loaderSpecifiers(
        ["--import", "a", "--import=b", "--no-warnings", "--loader", "c"],
        "--import d",
      ),
      ["a", "b", "c", "d"],
    );
    assert.deepEqual(loaderSpecifiers(["--require", "x", "--inspect"], undefined), []);
  });

  for (const [how, execArgv, env] of [
    ["the tsx command line", ["--require", "preflight.cjs", "--import", TSX_LOADER], undefined],
    ["node --import tsx", ["--import", "tsx"], undefined],
    ["node --import=tsx/esm", ["--import=tsx/esm"], undefined],
    ["NODE_OPTIONS=--import tsx", [], "--import tsx"],
  ] as const) {
    it(`registers tsx's API in each thread under ${how}`, async () => {
      const preloads = threadPreloads(execArgv, REPO, env);
      assert.equal(preloads.length, 1);
      const source = decodeURIComponent(preloads[0]!.slice("data:text/javascript,".length));
      assert.equal(source, `import { register } from ${JSON.stringify(TSX_API)};\nregister();\n`);
      // The API it names exists and has the function it calls.
      const api = (await import(TSX_API)) as { register?: unknown };
      assert.equal(typeof api.register, "function");
    });
  }

  it("preloads nothing without tsx, or when a loader cannot be resolved", () => {
    assert.deepEqual(threadPreloads([], REPO, undefined), []);
    assert.deepEqual(threadPreloads(["--import", "./no-such-loader.mjs"], REPO, undefined), []);
    assert.deepEqual(threadPreloads(["--import", "no-such-package"], REPO, undefined), []);
    // A loader from another package (here: this one's own built file).
    const other = pathToFileURL(resolve(REPO, "dist/src/errors.js")).href;
    assert.deepEqual(threadPreloads(["--import", other], REPO, undefined), []);
  });

  it("tells how to run a .ts task module only when the extension was the problem", () => {
    const unknown = Object.assign(new TypeError("Unknown file extension"), {
      code: "ERR_UNKNOWN_FILE_EXTENSION",
    });
    assert.match(loaderHint(unknown), /Node 22\.18 or later.*tsx service\.ts/);
    assert.equal(loaderHint(new Error("boom")), "");
    assert.equal(loaderHint(undefined), "");
  });
});
