import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import * as api from "rapidai/background";

describe("the public API of rapidai/background", () => {
  it("exports exactly these names (a change here is a change to the public API)", () => {
    assert.deepEqual(Object.keys(api).sort(), [
      "ErrorCode",
      "InMemoryQueue",
      "JOB_EVENTS",
      "JOB_STATUSES",
      "JobError",
      "JobQueue",
      "JobResult",
      "JobStatus",
      "RapidAIException",
      "RedisQueue",
      "TRANSITIONS",
      "UnrecoverableError",
      "background",
      "canTransition",
      "currentJob",
      "getQueue",
      "isTerminal",
      "move",
      "parseJobStatus",
      "resetDefaultQueue",
    ]);
  });

  it("exports the design's names with the right kinds", () => {
    const functions = {
      background: api.background,
      currentJob: api.currentJob,
      getQueue: api.getQueue,
      move: api.move,
      parseJobStatus: api.parseJobStatus,
    };
    for (const [name, value] of Object.entries(functions)) {
      assert.equal(typeof value, "function", name);
    }
    const classes = {
      JobQueue: api.JobQueue,
      InMemoryQueue: api.InMemoryQueue,
      RedisQueue: api.RedisQueue,
      JobResult: api.JobResult,
      JobError: api.JobError,
      RapidAIException: api.RapidAIException,
      UnrecoverableError: api.UnrecoverableError,
    };
    for (const [name, value] of Object.entries(classes)) {
      assert.equal(typeof value, "function", name);
      assert.match(Function.prototype.toString.call(value), /^class /, `${name} is a class`);
    }
    assert.ok(api.InMemoryQueue.prototype instanceof api.JobQueue);
    assert.ok(api.RedisQueue.prototype instanceof api.JobQueue);
    assert.equal(typeof api.JobStatus, "object");
  });

  it("keeps internals out of reach of deep imports", async () => {
    await assert.rejects(
      () => import("rapidai/dist/src/errors.js" as string),
      (e: unknown) => (e as { code?: string }).code === "ERR_PACKAGE_PATH_NOT_EXPORTED",
    );
    const require = createRequire(import.meta.url);
    const pkg = require("rapidai/package.json") as { exports: Record<string, unknown> };
    assert.ok("./background" in pkg.exports);
    assert.equal(
      Object.keys(pkg.exports).some((k) => k.includes("*")),
      false,
      "no wildcard exports",
    );
  });
});
