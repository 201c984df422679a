import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { CancelFlag } from "../../src/executor/protocol.js";
import "../fixtures/compute-tasks.js";
import { closeExecutors, okValue, openExecutor, until } from "./executor-support.js";

after(() => closeExecutors());

describe("the elastic pool", () => {
  it("grows to maxThreads under load, shrinks to minThreads when idle, and cancels on a grown thread", async () => {
    const h = openExecutor({
      minThreads: 1,
      maxThreads: 2,
      idleTimeoutMs: 100,
      cancelGraceMs: 100,
    });
    h.executor.start();
    await until(() => h.executor.liveThreads === 1, "the first thread");
    const jobs = [h.run("compute.threadAfter", [400]), h.run("compute.threadAfter", [400])];
    await until(() => h.executor.liveThreads === 2, "a second thread under load");
    const threads = (await Promise.all(jobs.map((j) => j.ended))).map(okValue);
    assert.notEqual(threads[0], threads[1], "the two jobs ran side by side");
    await until(() => h.executor.liveThreads === 1, "the idle thread to end");

    // Slots are per attempt, not per thread: a cancel still reaches the job
    // on whichever thread it runs, after growing again.
    const long = [h.run("compute.threadAfter", [5000]), h.run("compute.threadAfter", [5000])];
    await until(() => h.executor.liveThreads === 2, "growing again");
    h.executor.stop(long[1]!.attempt, CancelFlag.CANCELLED);
    assert.equal((await long[1]!.ended).kind, "cancelled");
    h.executor.stop(long[0]!.attempt, CancelFlag.CANCELLED);
    assert.equal((await long[0]!.ended).kind, "cancelled");
  });

  it("replaces a thread after maxJobsPerThread jobs, between jobs, failing none", async () => {
    const h = openExecutor({ threads: 1, maxJobsPerThread: 2 });
    const threads: unknown[] = [];
    for (let i = 0; i < 6; i++)
      threads.push(okValue(await h.run("compute.threadAfter", [0]).ended));
    assert.equal(threads[0], threads[1]);
    assert.equal(threads[2], threads[3]);
    assert.equal(threads[4], threads[5]);
    assert.equal(new Set(threads).size, 3, `threads: ${threads.join(", ")}`);
    // The retired threads are forgotten, though they exited before the pool
    // reported them (their ids read -1 by then): one thread is left, not three.
    await until(() => h.executor.liveThreads === 1, "only the live thread counted");
  });

  it("forgets a thread that crashed under its job: the pool counts the threads it has", async () => {
    const h = openExecutor({ threads: 1 });
    for (let i = 0; i < 3; i++) {
      assert.equal((await h.run("compute.exitThread", []).ended).kind, "crashed");
    }
    assert.equal((await h.run("compute.threadAfter", [0]).ended).kind, "ok");
    assert.equal(h.executor.liveThreads, 1);
  });

  it("replaces a thread whose heap is over maxThreadHeapMb after a job, failing none", async () => {
    // Any thread's heap is above 1 MiB: each job gets a fresh thread.
    const h = openExecutor({ threads: 1, maxThreadHeapMb: 1 });
    const threads: unknown[] = [];
    for (let i = 0; i < 3; i++)
      threads.push(okValue(await h.run("compute.threadAfter", [0]).ended));
    assert.equal(new Set(threads).size, 3, `threads: ${threads.join(", ")}`);
  });

  it("keeps a thread without limits", async () => {
    const h = openExecutor({ threads: 1 });
    const threads: unknown[] = [];
    for (let i = 0; i < 4; i++)
      threads.push(okValue(await h.run("compute.threadAfter", [0]).ended));
    assert.equal(new Set(threads).size, 1);
  });

  it("arms the timeout given in the run spec", async () => {
    const h = openExecutor({ threads: 1, cancelGraceMs: 50 });
    const outcome = await h.run("compute.threadAfter", [5000], { timeoutMs: 100 }).ended;
    assert.equal(outcome.kind, "timeout");
  });
});
