import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import {
  background,
  ErrorCode,
  getQueue,
  InMemoryQueue,
  JobError,
  resetDefaultQueue,
} from "rapidai/background";
import { identity } from "../fixtures/core-tasks.js";
import { adoptQueue, caught, closeQueues, osThreadCount, settledThreadCount } from "./helpers.js";

after(() => closeQueues());

/** Active handles and requests, by kind, ignoring the test runner's own. */
function resources(): string[] {
  return process.getActiveResourcesInfo().sort();
}

describe("getQueue()", () => {
  // Each test starts with no default queue and leaves none: none depends on
  // what another made (the queues they made are closed after the file).
  beforeEach(() => resetDefaultQueue());
  afterEach(() => resetDefaultQueue());

  it("rejects an unknown backend name before any default exists", () => {
    assert.throws(
      () => getQueue("postgres" as never),
      (e: unknown) =>
        e instanceof JobError && e.code === ErrorCode.INVALID_OPTION && /backend/.test(e.message),
    );
  });

  it("builds the default queue, a background() task and a queue with no I/O and no thread", async () => {
    const threads = await settledThreadCount();
    const handles = resources();
    const q = getQueue("memory", { threads: 2 });
    const own = new InMemoryQueue({ threads: 3 });
    background({ name: "noStartProbe", queue: own })(function noStartProbe() {});
    assert.deepEqual(resources(), handles);
    assert.equal(osThreadCount(), threads);
    assert.ok(q instanceof InMemoryQueue);
    assert.equal((q as InMemoryQueue).threads, 2);
    assert.equal(osThreadCount(), threads, "reading the pool size starts nothing either");
    adoptQueue(q);
    adoptQueue(own);
  });

  it("returns the same default on every later call that asks for it or for nothing", () => {
    const q = adoptQueue(getQueue("memory", { threads: 2 }));
    assert.equal(getQueue(), q);
    assert.equal(getQueue("memory", { threads: 2 }), q);
    assert.equal(getQueue("memory", { threads: 2, cancelGraceMs: undefined }), q);
  });

  it("refuses a later request for other options or another backend with ERR_QUEUE_CONFLICT", () => {
    adoptQueue(getQueue("memory", { threads: 2 }));
    for (const [backend, options] of [
      ["memory", { threads: 4 }],
      ["memory", {}],
      ["redis", {}],
      ["memory", { threads: 2, cancelGraceMs: 5 }],
    ] as const) {
      assert.throws(
        () => getQueue(backend, options as Record<string, unknown>),
        (e: unknown) => e instanceof JobError && e.code === ErrorCode.QUEUE_CONFLICT,
        `${backend} ${JSON.stringify(options)}`,
      );
    }
  });

  it("makes a fresh default after resetDefaultQueue()", async () => {
    const old = adoptQueue(getQueue("memory", { threads: 2 }));
    resetDefaultQueue();
    const fresh = adoptQueue(getQueue("memory", { threads: 1 }));
    assert.notEqual(fresh, old);
    assert.equal(getQueue(), fresh);
    assert.equal((getQueue() as InMemoryQueue).threads, 1, "the new options hold");
  });

  it("lets a tasks module that builds its own queue at top level be imported in a worker and run there", async () => {
    // The fixture calls getQueue() at top level: its queue becomes this
    // process's default, and each worker thread that imports it builds one too.
    const { ownQueueTask, queue } = await import("../fixtures/core-own-queue.js");
    adoptQueue(queue);
    assert.equal(getQueue(), queue);
    const ids = await Promise.all([1, 2, 3].map((x) => ownQueueTask.enqueue(x)));
    const results = await Promise.all(ids.map((id) => queue.waitFor(id, { timeoutMs: 20_000 })));
    assert.deepEqual(
      results.map((r) => [r.status, r.error, r.result]),
      [1, 2, 3].map((x) => ["completed", undefined, { x, isMainThread: false, sameQueue: true }]),
    );
  });

  it("starts the pool at the first enqueue, not before", async () => {
    const queue = adoptQueue(new InMemoryQueue({ threads: 2 }));
    const before = osThreadCount();
    const id = await queue.enqueue("first", identity, [1]);
    await queue.waitFor(id, { timeoutMs: 20_000 });
    const after = osThreadCount();
    if (before !== undefined && after !== undefined) {
      assert.ok(after >= before + 2, `${before} → ${after} threads`);
    }
  });

  it("rejects waitFor on an id it never saw with ERR_JOB_NOT_FOUND", async () => {
    const queue = adoptQueue(new InMemoryQueue({ threads: 1 }));
    const error = await caught(() => queue.waitFor("never", { timeoutMs: 1000 }));
    assert.equal(error.code, ErrorCode.JOB_NOT_FOUND);
  });
});
