import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { LOG_FLUSH_LINES, LOG_LINE_MAX_CHARS } from "../../src/executor/worker-logs.js";
import { logLines, logLong } from "../fixtures/compute-tasks.js";
import { closeExecutors, okValue, openExecutor } from "./executor-support.js";

after(() => closeExecutors());

describe("currentJob().log(): lines from a worker thread, in batches", () => {
  it("delivers every line in order, in batches rather than one message each, all before the job ends", async () => {
    const h = openExecutor({ threads: 1 });
    const { attempt, ended } = h.run("compute.logLines", [150, 0]);
    const outcome = await ended;
    assert.equal(okValue(outcome), 150);
    const lines = h.logs.get(attempt.jobId) ?? [];
    assert.deepEqual(
      lines,
      Array.from({ length: 150 }, (_, i) => `line ${i}`),
      "every line arrived before done",
    );
    assert.ok(
      h.logBatches.length <= Math.ceil(150 / LOG_FLUSH_LINES) + 1,
      `150 lines came in ${h.logBatches.length} messages`,
    );
    assert.ok(Math.max(...h.logBatches) <= LOG_FLUSH_LINES);
  });

  it("sends the lines of a job that pauses while it still runs, not only at its end", async () => {
    const h = openExecutor({ threads: 1 });
    let endedYet = false;
    const { attempt, ended } = h.run("compute.logLines", [20, 400]);
    void ended.then(() => {
      endedYet = true;
    });
    // Ten lines, then a 400 ms pause: the buffer's timer sends them meanwhile.
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if ((h.logs.get(attempt.jobId)?.length ?? 0) >= 10) {
          clearInterval(check);
          resolve();
        } else if (endedYet) {
          clearInterval(check);
          reject(new Error("no line arrived before the job ended"));
        }
      }, 5);
    });
    assert.equal(endedYet, false);
    assert.equal(okValue(await ended), 20);
    assert.equal(h.logs.get(attempt.jobId)?.length, 20);
  });

  it("cuts a line longer than the limit, with a marker saying how much was cut", async () => {
    const h = openExecutor({ threads: 1 });
    const { attempt, ended } = h.run("compute.logLong", [LOG_LINE_MAX_CHARS + 5000]);
    okValue(await ended);
    const [line] = h.logs.get(attempt.jobId) ?? [];
    assert.ok(line !== undefined);
    assert.ok(line.startsWith("x".repeat(LOG_LINE_MAX_CHARS)));
    assert.ok(line.length < LOG_LINE_MAX_CHARS + 100, `kept ${line.length} characters`);
    assert.match(line, /… \[5000 characters cut\]$/);
  });

  it("does nothing in a direct call of the task", async () => {
    assert.equal(await logLines(3, 0), 3);
    assert.equal(logLong(10), undefined);
  });
});
