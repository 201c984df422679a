import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
// Internal module: when endings are written is unit-tested directly, on a fake remote store.
import type { ClaimedJob, Ending, JobStore } from "../../src/engine/store.js";
import { WriteBack } from "../../src/engine/write-back.js";

/** A remote store (not inline) that records each settle call and applies every ending. */
function remoteStore() {
  const calls: string[][] = [];
  let called: (() => void) | undefined;
  const store = {
    claimsInline: false,
    drainMs: 0,
    settle(endings: readonly Ending[]) {
      calls.push(endings.map((e) => e.job.id));
      called?.();
      return Promise.resolve(endings.map(() => true));
    },
    problem() {},
  } as unknown as JobStore;
  return {
    store,
    calls,
    /** Resolves at the next settle call. */
    nextCall: () =>
      new Promise<void>((resolve) => {
        called = resolve;
      }),
  };
}

function ending(id: string): Ending {
  const job = { id, task: "t", attempt: 1, token: `w:1` } as unknown as ClaimedJob;
  return { job, kind: "completed", result: "", durationMs: 0 };
}

describe("WriteBack", () => {
  // Timers never fire unless a test ticks them: an ending written without
  // ticking was written without waiting on a timer.
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  it("writes an ending at once when nothing else is coming (idle: no batching wait)", async () => {
    const s = remoteStore();
    const w = new WriteBack(s.store, { waitMs: () => 0, written() {} });
    const call = s.nextCall();
    w.add(ending("a"));
    await call;
    assert.deepEqual(s.calls, [["a"]]);
  });

  it("holds endings to fill a batch while others are coming, and writes them together once the last one came", async () => {
    const s = remoteStore();
    let coming = 2;
    const w = new WriteBack(s.store, { waitMs: () => (coming > 0 ? 4 : 0), written() {} });
    const call = s.nextCall();
    coming--;
    w.add(ending("a"));
    coming--;
    w.add(ending("b"));
    await call;
    assert.deepEqual(s.calls, [["a", "b"]]);
  });

  it("waits for its timer while more endings are still coming", async () => {
    const s = remoteStore();
    const w = new WriteBack(s.store, { waitMs: () => 4, written() {} });
    const call = s.nextCall();
    w.add(ending("a"));
    w.add(ending("b"));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(s.calls, [], "nothing is written before the batching wait ends");
    mock.timers.tick(4);
    await call;
    assert.deepEqual(s.calls, [["a", "b"]]);
  });
});
