import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { currentJob, ErrorCode, JobError, RapidAIException } from "rapidai/background";
// Internal: the one function that enforces the transition table.
import { assertTransition } from "../../src/state-machine.js";

// Every code, written out: adding, renaming or removing one shows here.
const EXPECTED: Record<string, string> = {
  JOB_NOT_FOUND: "ERR_JOB_NOT_FOUND",
  UNKNOWN_TASK: "ERR_UNKNOWN_TASK",
  DUPLICATE_TASK: "ERR_DUPLICATE_TASK",
  TASK_NAME_REQUIRED: "ERR_TASK_NAME_REQUIRED",
  INVALID_OPTION: "ERR_INVALID_OPTION",
  ARGUMENT_NOT_CLONEABLE: "ERR_ARGUMENT_NOT_CLONEABLE",
  RESULT_NOT_CLONEABLE: "ERR_RESULT_NOT_CLONEABLE",
  RESULT_TOO_LARGE: "ERR_RESULT_TOO_LARGE",
  PAYLOAD_TOO_LARGE: "ERR_PAYLOAD_TOO_LARGE",
  INVALID_JOB_ID: "ERR_INVALID_JOB_ID",
  INVALID_STATUS: "ERR_INVALID_STATUS",
  TIMEOUT: "ERR_JOB_TIMEOUT",
  CANCELLED: "ERR_JOB_CANCELLED",
  QUEUE_CLOSED: "ERR_QUEUE_CLOSED",
  QUEUE_CONFLICT: "ERR_QUEUE_CONFLICT",
  BACKEND_UNAVAILABLE: "ERR_BACKEND_UNAVAILABLE",
  BACKEND_FULL: "ERR_BACKEND_FULL",
  BACKEND_AUTH: "ERR_BACKEND_AUTH",
  BACKEND_CORRUPT: "ERR_BACKEND_CORRUPT",
  WORKER_CRASHED: "ERR_WORKER_CRASHED",
  TASK_MODULE_IMPORT: "ERR_TASK_MODULE_IMPORT",
  PAYLOAD_CORRUPT: "ERR_PAYLOAD_CORRUPT",
  LEASE_EXPIRED: "ERR_LEASE_EXPIRED",
  NO_CURRENT_JOB: "ERR_NO_CURRENT_JOB",
  ILLEGAL_TRANSITION: "ERR_ILLEGAL_TRANSITION",
  NOT_A_WORKER: "ERR_NOT_A_WORKER",
  DEPENDENCY_FAILED: "ERR_DEPENDENCY_FAILED",
  DEPENDENCY_NOT_FOUND: "ERR_DEPENDENCY_NOT_FOUND",
  ENQUEUE_AT_IMPORT: "ERR_ENQUEUE_AT_IMPORT",
  UNRECOVERABLE: "ERR_UNRECOVERABLE",
  REDIS_MOVED: "ERR_REDIS_MOVED",
  REDIS_CROSSSLOT: "ERR_REDIS_CROSSSLOT",
  REDIS_READONLY: "ERR_REDIS_READONLY",
  REDIS_NOPERM: "ERR_REDIS_NOPERM",
  REPLICATION_TIMEOUT: "ERR_REPLICATION_TIMEOUT",
};

describe("errors", () => {
  it("lists exactly the expected codes, each unique and starting with ERR_", () => {
    assert.deepEqual({ ...ErrorCode }, EXPECTED);
    const values = Object.values(ErrorCode);
    assert.equal(new Set(values).size, values.length);
    for (const code of values) assert.match(code, /^ERR_[A-Z_]+$/);
  });

  for (const [key, code] of Object.entries(EXPECTED)) {
    it(`builds a JobError for ${key} with code ${code}, name JobError and the class chain`, () => {
      const cause = new Error("underneath");
      const error = new JobError(code as JobError["code"], `something about ${key}`, { cause });
      assert.equal(error.code, code);
      assert.equal(error.name, "JobError");
      assert.equal(error.message, `something about ${key}`);
      assert.equal(error.cause, cause);
      assert.ok(error instanceof JobError);
      assert.ok(error instanceof RapidAIException);
      assert.ok(error instanceof Error);
      assert.equal(String(error), `JobError: something about ${key}`);
      assert.match(error.stack ?? "", new RegExp(`^JobError: something about ${key}`));
    });
  }

  it("chains JobError → RapidAIException → Error", () => {
    assert.equal(Object.getPrototypeOf(JobError), RapidAIException);
    assert.equal(Object.getPrototypeOf(RapidAIException), Error);
    const base = new RapidAIException("base");
    assert.equal(base.name, "RapidAIException");
    assert.ok(base instanceof Error);
    assert.equal(base instanceof JobError, false);
  });

  it("raises coded errors from the engine itself", () => {
    assert.throws(
      () => currentJob(),
      (e: unknown) => e instanceof JobError && e.code === ErrorCode.NO_CURRENT_JOB,
    );
    assert.throws(
      () => assertTransition("j1", "completed", "running"),
      (e: unknown) =>
        e instanceof JobError &&
        e.code === ErrorCode.ILLEGAL_TRANSITION &&
        /j1.*completed → running/.test(e.message),
    );
    assert.doesNotThrow(() => assertTransition("j1", "running", "pending"));
  });
});
