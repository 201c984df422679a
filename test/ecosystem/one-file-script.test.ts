import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { lastJson, run } from "./child.js";

const SCRIPT = fileURLToPath(new URL("../fixtures/one-file-script.js", import.meta.url));

interface Report {
  status: string;
  error?: string;
  errorCode?: string;
  counts: Record<string, number>;
}

describe("a one-file script that defines a task and enqueues at top level", () => {
  it("fails its job with an error that says to move the tasks to their own module", async () => {
    const ran = await run(process.execPath, [SCRIPT], { cwd: process.cwd() });
    assert.equal(ran.code, 0, ran.stderr);
    const report = lastJson<Report>(ran.stdout);
    assert.equal(report.status, "failed");
    // The import of the module fails in the thread, so no retry can help.
    assert.equal(report.errorCode, "ERR_TASK_MODULE_IMPORT");
    assert.match(report.error ?? "", /oneFileDouble\.enqueue\(\) ran at the top level/);
    assert.match(report.error ?? "", /one-file-script\.js/);
    assert.match(report.error ?? "", /Move the tasks to a module of their own/);
    // The thread's re-run of the top level enqueued nothing: one job in all.
    const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
    assert.equal(total, 1);
  });
});
