/**
 * The in-memory store wakes its runner whenever a job becomes claimable
 * again. The runner claims from it only when woken once a claim came back
 * empty: a job made ready without a wake sits pending until the next
 * enqueue, however long that is (a retry with no backoff did, and a job
 * handed back from a thread that died under the job ahead of it).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { Change } from "../../src/engine/changes.js";
import type { ClaimedJob, RunnerPort } from "../../src/engine/store.js";
import { MemoryStore } from "../../src/memory/memory-store.js";
import { TimerQueue } from "../../src/timer-queue.js";
import { newJob, recordingSink } from "../conformance/store-harness.js";

/** A store attached to a runner that only counts its wakes, with one job claimed and nothing left. */
function claimedAlone() {
  const timers = new TimerQueue();
  const changes: Change[] = [];
  const store = new MemoryStore(
    {
      maxAgeMs: 86_400_000,
      maxCount: 1_000,
      maxPayloadBytes: 1024 * 1024,
      maxLogLines: 100,
      logger: { warn() {} },
    },
    recordingSink(changes),
    timers,
  );
  const runner = { wakes: 0 };
  const port: RunnerPort = {
    wake: () => runner.wakes++,
    cancel() {},
    lost() {},
    held: () => [],
    release() {},
    tasks: () => [],
  };
  store.attach(port);
  const id = randomUUID();
  store.insert([newJob(store, id, { maxRetries: 1 })]);
  const [claimed] = store.claim(1);
  assert.equal(claimed?.id, id);
  assert.deepEqual(store.claim(1), [], "nothing else to claim: the runner now waits for a wake");
  runner.wakes = 0;
  const close = () => {
    timers.clear();
    return store.close();
  };
  return { store, claimed: claimed as ClaimedJob, runner, close };
}

describe("the in-memory store wakes its runner when a job can be claimed again", () => {
  it("after a retry with no backoff", async () => {
    const { store, claimed, runner, close } = claimedAlone();
    const error = { name: "Error", message: "again" };
    store.settle([{ job: claimed, kind: "retry", error, delayMs: 0, durationMs: 1 }]);
    assert.equal(runner.wakes, 1);
    assert.equal(store.claim(1)[0]?.attempt, 2);
    await close();
  });

  it("after a claim that never ran is requeued (its thread died under the job ahead of it)", async () => {
    const { store, claimed, runner, close } = claimedAlone();
    store.settle([{ job: claimed, kind: "requeued" }]);
    assert.equal(runner.wakes, 1);
    assert.equal(store.claim(1)[0]?.attempt, 1, "the attempt that never ran is not counted");
    await close();
  });

  it("after claims are handed back", async () => {
    const { store, claimed, runner, close } = claimedAlone();
    store.handBack([claimed]);
    assert.equal(runner.wakes, 1);
    assert.equal(store.claim(1)[0]?.id, claimed.id);
    await close();
  });
});
