/**
 * Once a job of a task module completed on one thread, the pool's other
 * threads import that module while idle, so their first job of it does not
 * wait for the import (the worst latency of a burst that reaches a thread
 * idle until then).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InMemoryQueue } from "rapidai/background";
import { loggedThread } from "../fixtures/import-logged-tasks.js";
import { until } from "../support/until.js";

const dir = mkdtempSync(join(tmpdir(), "rapidai-warm-"));
const log = join(dir, "imports");
// Read by the fixture module when a worker thread imports it.
process.env.IMPORT_LOG = log;
const importedBy = () =>
  existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").map(Number) : [];

const queue = new InMemoryQueue({ threads: 2 });
after(async () => {
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("task modules imported ahead of their first job", () => {
  it("after one job of a module, the other idle thread imports it too, with no job of its own; each thread once", async () => {
    await queue.start();
    assert.deepEqual(importedBy(), [], "no thread imports a module before any job of it ran");
    const first = await queue.waitFor(await queue.enqueue("w1", loggedThread, []), {
      timeoutMs: 20_000,
    });
    assert.equal(first.status, "completed");
    await until("both threads to have imported the module", () => importedBy().length >= 2);
    const threads = importedBy();
    assert.equal(new Set(threads).size, 2, `imports by thread: ${threads.join(", ")}`);
    assert.ok(threads.includes(first.result as number));
    // Jobs on either thread find it imported: no thread imports it again.
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await queue.enqueue(`w2-${i}`, loggedThread, []));
    const ran = new Set<number>();
    for (const id of ids)
      ran.add((await queue.waitFor(id, { timeoutMs: 20_000 })).result as number);
    assert.equal(importedBy().length, 2, "each thread imported it once");
    for (const t of ran) assert.ok(threads.includes(t));
  });
});
