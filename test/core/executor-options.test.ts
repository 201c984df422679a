import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { ErrorCode } from "rapidai/background";
import { parseExecutorOptions } from "../../src/executor/executor-options.js";

const cores = availableParallelism();

function refused(options: Record<string, unknown>, names: RegExp): void {
  assert.throws(
    () => parseExecutorOptions(options),
    (e: unknown) =>
      (e as { code?: string }).code === ErrorCode.INVALID_OPTION &&
      names.test((e as Error).message),
  );
}

describe("pool options", () => {
  it("defaults to one thread per core, fixed, with the documented defaults", () => {
    assert.deepEqual(parseExecutorOptions({}), {
      minThreads: cores,
      maxThreads: cores,
      idleTimeoutMs: 60_000,
      concurrencyPerThread: 1,
      cancelGraceMs: 1000,
      resourceLimits: undefined,
      maxJobsPerThread: 0,
      maxThreadHeapMb: 0,
      importTimeoutMs: 30_000,
    });
  });

  it("reads threads as min = max, and fills the other bound of an elastic pool", () => {
    const fixed = parseExecutorOptions({ threads: 3 });
    assert.equal(fixed.minThreads, 3);
    assert.equal(fixed.maxThreads, 3);
    const upTo = parseExecutorOptions({ maxThreads: 4 });
    assert.equal(upTo.minThreads, 1);
    assert.equal(upTo.maxThreads, 4);
    const atLeast = parseExecutorOptions({ minThreads: 2 });
    assert.equal(atLeast.minThreads, 2);
    assert.equal(atLeast.maxThreads, Math.max(2, cores));
    const both = parseExecutorOptions({ minThreads: 0, maxThreads: 2, idleTimeoutMs: 5 });
    assert.deepEqual([both.minThreads, both.maxThreads, both.idleTimeoutMs], [0, 2, 5]);
  });

  it("refuses bad values with ERR_INVALID_OPTION naming the option", () => {
    refused({ threads: 1, maxThreads: 2 }, /`threads`.*`minThreads`/);
    refused({ minThreads: 3, maxThreads: 2 }, /`minThreads` \(3\).*`maxThreads` \(2\)/);
    refused({ maxThreads: 0 }, /`maxThreads`/);
    refused({ minThreads: -1 }, /`minThreads`/);
    refused({ idleTimeoutMs: -5 }, /`idleTimeoutMs`/);
    refused({ maxJobsPerThread: 0 }, /`maxJobsPerThread`/);
    refused({ maxJobsPerThread: 1.5 }, /`maxJobsPerThread`/);
    refused({ maxThreadHeapMb: 0 }, /`maxThreadHeapMb`/);
    refused({ maxThreadHeapMb: "64" }, /`maxThreadHeapMb`/);
    refused({ importTimeoutMs: 0 }, /`importTimeoutMs`/);
    refused({ threads: 2000 }, /`threads`/);
    refused({ resourceLimits: { stackSizeMb: -1 } }, /`resourceLimits.stackSizeMb`/);
    refused({ resourceLimits: { heap: 1 } }, /resourceLimits\.heap/);
  });
});
