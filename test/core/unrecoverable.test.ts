import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ErrorCode, RapidAIException, UnrecoverableError } from "rapidai/background";
import { refuse, refuseForeign } from "../fixtures/compute-tasks.js";
import { closeQueues, openQueue, recordEvents, runToEnd } from "./helpers.js";

after(() => closeQueues());

describe("UnrecoverableError", () => {
  it("is an Error with its own name and code ERR_UNRECOVERABLE", () => {
    const error = new UnrecoverableError("not an image");
    assert.ok(error instanceof Error);
    assert.equal(error instanceof RapidAIException, false);
    assert.equal(error.name, "UnrecoverableError");
    assert.equal(error.code, ErrorCode.UNRECOVERABLE);
    assert.equal(error.code, "ERR_UNRECOVERABLE");
    assert.equal(error.message, "not an image");
  });

  it("thrown in a job on a worker thread, fails it at once with its message, retries left unused", async () => {
    const queue = openQueue();
    const events = recordEvents(queue);
    const r = await runToEnd(queue, refuse, "bad input");
    assert.equal(r.status, "failed");
    assert.equal(r.attempts, 1, "maxRetries is 3, none was used");
    assert.equal(r.errorCode, ErrorCode.UNRECOVERABLE);
    assert.match(r.error ?? "", /bad input/);
    assert.equal(events.retrying.length, 0);
  });

  it("counts an error named UnrecoverableError from another library the same way", async () => {
    const queue = openQueue();
    const r = await runToEnd(queue, refuseForeign);
    assert.equal(r.status, "failed");
    assert.equal(r.attempts, 1);
    assert.match(r.error ?? "", /refused elsewhere/);
  });
});
