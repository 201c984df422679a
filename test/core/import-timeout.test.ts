import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ErrorCode } from "rapidai/background";
import { requireTask } from "../../src/registry.js";
import "../fixtures/compute-hanging-import.js";
import "../fixtures/compute-tasks.js";
import { closeExecutors, okValue, openExecutor } from "./executor-support.js";

const dir = mkdtempSync(join(tmpdir(), "rapidai-hang-"));
const hangLog = join(dir, "threads");
// Read by the fixture module when a worker thread imports it.
process.env.COMPUTE_HANG_LOG = hangLog;

after(async () => {
  await closeExecutors();
  rmSync(dir, { recursive: true, force: true });
});

describe("a task module whose import never settles", () => {
  it("fails the job with ERR_TASK_MODULE_IMPORT after importTimeoutMs, marks the module broken and replaces the thread", async () => {
    // Generous: the healthy job after the hung one imports its module on a
    // new thread within the same limit, on a machine that may be loaded.
    const h = openExecutor({ threads: 1, importTimeoutMs: 1500 });
    const first = h.run("hangingImportTask", []);
    const outcome = await first.ended;
    assert.equal(outcome.kind, "error");
    assert.ok(outcome.kind === "error");
    assert.equal(outcome.permanent, true);
    assert.equal(outcome.error.code, ErrorCode.TASK_MODULE_IMPORT);
    assert.match(outcome.error.message, /did not finish within 1500 ms/);
    assert.equal(h.errors.length, 1, "the broken module is reported once");

    const url = requireTask("hangingImportTask").moduleUrl;
    assert.ok(h.executor.brokenModule(url) !== undefined);
    // Known broken: the next job fails at once, without a thread, and not
    // synchronously from run().
    let answered = false;
    const second = h.run("hangingImportTask", []);
    void second.ended.then(() => {
      answered = true;
    });
    assert.equal(answered, false);
    const again = await second.ended;
    assert.ok(again.kind === "error" && again.permanent);
    assert.equal(again.error.code, ErrorCode.TASK_MODULE_IMPORT);
    assert.equal(readFileSync(hangLog, "utf8").trim().split("\n").length, 1, "imported once");

    // The pool's one thread hung in the import; a healthy job runs on a new one.
    const hungThread = Number(readFileSync(hangLog, "utf8").trim());
    const healthy = await h.run("compute.threadAfter", [0]).ended;
    assert.notEqual(okValue(healthy), hungThread);
  });
});
