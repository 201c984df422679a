import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  classifyDependencies,
  dependencyResults,
  parseDependsOn,
} from "../../src/engine/dependencies.js";
import { ErrorCode, JobError } from "../../src/errors.js";
import { JobResult } from "../../src/job-result.js";
import type { JobStatus } from "../../src/job-status.js";
import { DependencyGraph } from "../../src/memory/dependency-graph.js";

describe("dependsOn", () => {
  it("accepts job ids, drops repeats, and rejects anything else naming the option", () => {
    assert.deepEqual(parseDependsOn(["a", "b", "a"]), ["a", "b"]);
    assert.deepEqual(parseDependsOn([]), []);
    for (const bad of ["a", [""], ["ok", "has space"], [1], Array(1001).fill("x")]) {
      assert.throws(
        () => parseDependsOn(bad),
        (e: unknown) =>
          e instanceof JobError &&
          e.code === ErrorCode.INVALID_OPTION &&
          /`dependsOn`/.test(e.message),
      );
    }
    assert.throws(
      () => parseDependsOn(["a", "me"], "me"),
      (e: unknown) => e instanceof JobError && /names the job itself/.test(e.message),
    );
  });

  it("classes dependencies at enqueue: missing, failed, ready or waiting", () => {
    const status: Record<string, JobStatus> = {
      done: "completed",
      busy: "running",
      queued: "pending",
      broken: "failed",
      stopped: "cancelled",
    };
    const of = (id: string) => status[id];
    assert.deepEqual(classifyDependencies(["done", "ghost", "broken"], of), {
      kind: "missing",
      dependency: "ghost",
    });
    assert.deepEqual(classifyDependencies(["busy", "stopped"], of), {
      kind: "failed",
      dependency: "stopped",
      status: "cancelled",
    });
    assert.deepEqual(classifyDependencies(["done"], of), { kind: "ready" });
    assert.deepEqual(classifyDependencies(["done", "busy", "queued"], of), {
      kind: "waiting",
      unfinished: ["busy", "queued"],
    });
  });

  it("collects each dependency's result by job id", async () => {
    const results = new Map<string, JobResult>([
      [
        "a",
        new JobResult({
          jobId: "a",
          task: "t",
          status: "completed",
          result: { n: 1 },
          createdAt: new Date(),
          attempts: 1,
          maxRetries: 0,
        }),
      ],
      [
        "b",
        new JobResult({
          jobId: "b",
          task: "t",
          status: "completed",
          result: [2],
          createdAt: new Date(),
          attempts: 1,
          maxRetries: 0,
        }),
      ],
    ]);
    assert.deepEqual(
      await dependencyResults(["a", "b", "trimmed"], async (id) => results.get(id)),
      {
        a: { n: 1 },
        b: [2],
        trimmed: undefined,
      },
    );
  });
});

describe("dependency graph", () => {
  it("fan-in: the reducer is ready once the last of its maps completed", () => {
    const g = new DependencyGraph();
    g.add("reduce", ["m1", "m2", "m3"]);
    assert.equal(g.isWaiting("reduce"), true);
    assert.deepEqual(g.onFinished("m2", "completed").ready, []);
    assert.deepEqual(g.onFinished("m1", "completed").ready, []);
    assert.deepEqual(g.waitingOn("reduce"), ["m3"]);
    assert.deepEqual(g.onFinished("m3", "completed"), {
      ready: ["reduce"],
      failed: [],
      causes: new Map(),
    });
    assert.equal(g.isWaiting("reduce"), false);
    assert.equal(g.size, 0);
  });

  it("chain: each link is ready when the one before completed", () => {
    const g = new DependencyGraph();
    g.add("b", ["a"]);
    g.add("c", ["b"]);
    assert.deepEqual(g.onFinished("a", "completed").ready, ["b"]);
    assert.deepEqual(g.onFinished("b", "completed").ready, ["c"]);
    assert.deepEqual(g.onFinished("c", "completed").ready, []);
  });

  it("a failed dependency fails its dependents and theirs down the chain, and frees the rest", () => {
    const g = new DependencyGraph();
    g.add("b", ["a"]);
    g.add("c", ["b", "x"]);
    g.add("d", ["c"]);
    g.add("other", ["x"]);
    const r = g.onFinished("a", "failed");
    assert.deepEqual(r.ready, []);
    assert.deepEqual(r.failed, ["b", "c", "d"]);
    assert.deepEqual(
      [...r.causes],
      [
        ["b", "a"],
        ["c", "b"],
        ["d", "c"],
      ],
    );
    // c no longer waits for x: x completing frees only `other`.
    assert.deepEqual(g.onFinished("x", "completed").ready, ["other"]);
    assert.equal(g.size, 0);
  });

  it("a cancelled dependency fails its dependents too; a cancelled dependent waits no more", () => {
    const g = new DependencyGraph();
    g.add("b", ["a"]);
    g.add("c", ["a"]);
    g.forget("c");
    assert.deepEqual(g.onFinished("a", "cancelled").failed, ["b"]);
    assert.equal(g.size, 0);
  });

  it("costs nothing for a job nothing depends on", () => {
    const g = new DependencyGraph();
    assert.deepEqual(g.onFinished("lonely", "completed"), {
      ready: [],
      failed: [],
      causes: new Map(),
    });
    g.add("no-deps", []);
    assert.equal(g.isWaiting("no-deps"), false);
  });
});
