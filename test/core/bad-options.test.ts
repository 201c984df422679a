import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import {
  background,
  ErrorCode,
  type ErrorCodeValue,
  InMemoryQueue,
  JobError,
  parseJobStatus,
} from "rapidai/background";
import { identity } from "../fixtures/core-tasks.js";
import { caught, closeQueues, openQueue } from "./helpers.js";

after(() => closeQueues());

/** Asserts `fn` throws a JobError with `code` whose message matches `names`. */
function rejects(fn: () => unknown, code: ErrorCodeValue, names: RegExp, label: string): void {
  assert.throws(
    fn,
    (e: unknown) => {
      assert.ok(e instanceof JobError, `${label}: threw ${String(e)}`);
      assert.equal(e.code, code, `${label}: ${e.message}`);
      assert.match(e.message, names, label);
      return true;
    },
    label,
  );
}

const fn = function someTask() {};

describe("bad options are rejected at construction, naming the option", () => {
  const backgroundCases: [string, unknown, RegExp][] = [
    ["maxRetries below zero", { maxRetries: -1 }, /`maxRetries` must be an integer/],
    ["maxRetries not an integer", { maxRetries: 1.5 }, /`maxRetries`/],
    ["maxRetries as a string", { maxRetries: "3" }, /`maxRetries`/],
    ["maxRetries not finite", { maxRetries: Number.POSITIVE_INFINITY }, /`maxRetries`/],
    ["timeoutMs of zero", { timeoutMs: 0 }, /`timeoutMs`/],
    ["negative timeoutMs", { timeoutMs: -10 }, /`timeoutMs`/],
    ["an unknown backoff type", { backoff: { type: "linear" } }, /`backoff\.type`/],
    ["a negative backoff delay", { backoff: { delayMs: -1 } }, /`backoff\.delayMs`/],
    ["a negative fixed backoff", { backoff: -100 }, /`backoff`/],
    ["jitter above one", { backoff: { jitter: 2 } }, /`backoff\.jitter`/],
    ["an unknown backoff key", { backoff: { factor: 3 } }, /`backoff\.factor`/],
    ["an unknown option", { maxRetry: 1 }, /`maxRetry`/],
    ["an empty name", { name: "" }, /`name`/],
    ["a queue that is not a queue", { queue: {} }, /`queue`/],
    ["an empty module", { module: "" }, /`module`/],
  ];
  for (const [what, options, names] of backgroundCases) {
    it(`background(): ${what}`, () => {
      rejects(() => background(options as never), ErrorCode.INVALID_OPTION, names, what);
    });
  }

  it("background(options) applied to something that is not a function", () => {
    rejects(
      () => background({})(42 as never),
      ErrorCode.INVALID_OPTION,
      /function/,
      "not a function",
    );
  });

  const queueCases: [string, unknown, RegExp][] = [
    ["zero threads", { threads: 0 }, /`threads` must be an integer/],
    ["negative threads", { threads: -2 }, /`threads`/],
    ["fractional threads", { threads: 1.5 }, /`threads`/],
    ["threads as a string", { threads: "2" }, /`threads`/],
    ["zero concurrency per thread", { concurrencyPerThread: 0 }, /`concurrencyPerThread`/],
    ["a negative cancel grace", { cancelGraceMs: -1 }, /`cancelGraceMs`/],
    ["resourceLimits not an object", { resourceLimits: 32 }, /`resourceLimits`/],
    [
      "a negative heap limit",
      { resourceLimits: { maxOldGenerationSizeMb: -5 } },
      /`resourceLimits\.maxOldGenerationSizeMb`/,
    ],
    ["an unknown resource limit", { resourceLimits: { heapMb: 5 } }, /`resourceLimits\.heapMb`/],
    ["a negative retention count", { retention: { maxCount: -1 } }, /`retention\.maxCount`/],
    ["a negative retention age", { retention: { maxAgeMs: -1 } }, /`retention\.maxAgeMs`/],
    ["an unknown retention key", { retention: { count: 1 } }, /`retention\.count`/],
    ["a zero payload limit", { maxPayloadBytes: 0 }, /`maxPayloadBytes`/],
    ["an unknown option", { thread: 2 }, /`thread`/],
    ["options that are not an object", "fast", /`options`/],
  ];
  for (const [what, options, names] of queueCases) {
    it(`new InMemoryQueue(): ${what}`, () => {
      rejects(() => new InMemoryQueue(options as never), ErrorCode.INVALID_OPTION, names, what);
    });
  }

  it("background() of an anonymous function without a name is ERR_TASK_NAME_REQUIRED", () => {
    rejects(() => background(() => 1), ErrorCode.TASK_NAME_REQUIRED, /name/, "arrow");
    rejects(
      () => background({ maxRetries: 1 })(() => {}),
      ErrorCode.TASK_NAME_REQUIRED,
      /name/,
      "anonymous function",
    );
  });

  it("a task name already defined by another module is ERR_DUPLICATE_TASK, naming that module", () => {
    rejects(
      () => background({ name: "identity" })(fn),
      ErrorCode.DUPLICATE_TASK,
      /identity.*core-tasks/,
      "duplicate",
    );
    // The original definition is untouched.
    assert.equal(identity(5), 5);
  });

  it("the same module defining a name again replaces it (a module evaluated twice)", () => {
    const first = background({ name: "definedTwiceHere" })(() => 1);
    const second = background({ name: "definedTwiceHere" })(() => 2);
    assert.equal(first(), 1);
    assert.equal(second(), 2);
  });

  it("an unknown status string is ERR_INVALID_STATUS", () => {
    rejects(() => parseJobStatus("finished"), ErrorCode.INVALID_STATUS, /finished/, "status");
  });
});

describe("bad enqueue input is rejected, naming it, and nothing is stored", () => {
  const queue = openQueue();

  const cases: [string, () => Promise<unknown>, ErrorCodeValue, RegExp][] = [
    ["an empty job id", () => queue.enqueue("", identity, [1]), ErrorCode.INVALID_JOB_ID, /""/],
    [
      "a job id with a space",
      () => queue.enqueue("a b", identity, [1]),
      ErrorCode.INVALID_JOB_ID,
      /"a b"/,
    ],
    [
      "a job id with a slash",
      () => queue.enqueue("a/b", identity, [1]),
      ErrorCode.INVALID_JOB_ID,
      /a\/b/,
    ],
    [
      "a job id over 200 characters",
      () => queue.enqueue("x".repeat(201), identity, [1]),
      ErrorCode.INVALID_JOB_ID,
      /200/,
    ],
    [
      "a job id that is not a string",
      () => queue.enqueue(7 as never, identity, [1]),
      ErrorCode.INVALID_JOB_ID,
      /7/,
    ],
    [
      "an own job id that is empty",
      () => identity.enqueueWith({ jobId: "" }, 1),
      ErrorCode.INVALID_JOB_ID,
      /""/,
    ],
    [
      "a bad positional id with a good own id",
      () => queue.enqueue("bad id", identity, [1], { jobId: "good-id" }),
      ErrorCode.INVALID_JOB_ID,
      /bad id/,
    ],
    [
      "a negative delay",
      () => queue.enqueue(randomUUID(), identity, [1], { delayMs: -1 }),
      ErrorCode.INVALID_OPTION,
      /`delayMs`/,
    ],
    [
      "a delay that is not a number",
      () => queue.enqueue(randomUUID(), identity, [1], { delayMs: Number.NaN }),
      ErrorCode.INVALID_OPTION,
      /`delayMs`/,
    ],
    [
      "a fractional priority",
      () => queue.enqueue(randomUUID(), identity, [1], { priority: 0.5 }),
      ErrorCode.INVALID_OPTION,
      /`priority`/,
    ],
    [
      "negative maxRetries",
      () => queue.enqueue(randomUUID(), identity, [1], { maxRetries: -1 }),
      ErrorCode.INVALID_OPTION,
      /`maxRetries`/,
    ],
    [
      "an unknown enqueue option",
      () => queue.enqueue(randomUUID(), identity, [1], { delay: 5 } as never),
      ErrorCode.INVALID_OPTION,
      /`delay`/,
    ],
    [
      "arguments that are not an array",
      () => queue.enqueue(randomUUID(), identity, "1" as never),
      ErrorCode.INVALID_OPTION,
      /`args`/,
    ],
    [
      "an unknown task",
      () => queue.enqueue(randomUUID(), "nope", []),
      ErrorCode.UNKNOWN_TASK,
      /nope/,
    ],
  ];
  for (const [what, call, code, names] of cases) {
    it(what, async () => {
      const before = await queue.countJobs();
      const listed = (await queue.listJobs()).length;
      const error = await caught(call);
      assert.ok(error instanceof JobError, String(error));
      assert.equal(error.code, code, error.message);
      assert.match(error.message, names);
      assert.deepEqual(await queue.countJobs(), before);
      assert.equal((await queue.listJobs()).length, listed);
    });
  }

  it("accepts a job id of exactly 200 allowed characters", async () => {
    const id = `${"a".repeat(190)}_.:@-09AZ`;
    assert.equal(id.length, 199);
    const long = `${id}z`;
    assert.equal(await queue.enqueue(long, identity, [1], { delayMs: 60_000 }), long);
    assert.equal(await queue.cancel(long), true);
  });

  it("rejects arguments over the payload limit with ERR_PAYLOAD_TOO_LARGE", async () => {
    const small = openQueue({ maxPayloadBytes: 64 });
    const error = await caught(() => small.enqueue(randomUUID(), identity, ["x".repeat(100)]));
    assert.equal(error.code, ErrorCode.PAYLOAD_TOO_LARGE);
    assert.match(error.message, /64/);
    assert.deepEqual(await small.listJobs(), []);
  });
});
