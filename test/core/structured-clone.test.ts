import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Socket } from "node:net";
import { after, describe, it } from "node:test";
import { ErrorCode, getQueue, JobError } from "rapidai/background";
import { identity, returnFunction } from "../fixtures/core-tasks.js";
import { adoptQueue, caught, closeQueues, runToEnd } from "./helpers.js";

const queue = adoptQueue(getQueue("memory", { threads: 1 }));
after(() => closeQueues());

/** A value nested `depth` levels deep, built without recursion. */
function nest(depth: number, wrap: (inner: unknown) => unknown): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
}

function sample() {
  const shared = { shared: true };
  const nested: Record<string, unknown> = {
    date: new Date("2026-03-04T05:06:07.089Z"),
    map: new Map<unknown, unknown>([
      ["a", 1],
      [2, { deep: [new Date(0)] }],
      [{ key: "object" }, new Set([1n])],
    ]),
    set: new Set(["x", 3, 4n, null]),
    big: 2n ** 70n,
    negBig: -12345678901234567890n,
    u8: new Uint8Array([1, 2, 255]),
    i32: new Int32Array([-1, 0, 2 ** 31 - 1]),
    f64: new Float64Array([Math.PI, Number.NaN, Number.NEGATIVE_INFINITY, -0]),
    b64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    buffer: new Uint8Array([9, 8, 7]).buffer,
    regexp: /ab+c/gi,
    nothing: null,
    missing: undefined,
    numbers: [0, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e-300],
    // biome-ignore lint/suspicious/noSparseArray: a hole must survive the round trip
    sparse: [1, , 3],
    text: "ünïcödé ✓ \u0000",
    bool: false,
    a: shared,
    b: shared,
    deep: { l1: { l2: { l3: { l4: [{ l5: new Map([["k", new Set([new Date(1)])]]) }] } } } },
  };
  nested.self = nested;
  return nested;
}

describe("structured-clone values", () => {
  it("round-trip unchanged through a job's arguments and result", async () => {
    const value = sample();
    const r = await runToEnd(queue, identity, value);
    assert.equal(r.status, "completed", r.error);
    const back = r.result as Record<string, unknown>;
    assert.deepStrictEqual(back, value);
    assert.ok(back.map instanceof Map);
    assert.ok(back.set instanceof Set);
    assert.ok(back.date instanceof Date);
    assert.ok(back.u8 instanceof Uint8Array);
    assert.ok(back.b64 instanceof BigInt64Array);
    assert.equal(typeof back.big, "bigint");
    assert.equal(back.self, back, "a cycle stays a cycle");
    assert.equal(back.a, back.b, "shared references stay shared");
    assert.ok(Object.is((back.numbers as number[])[1], -0));
    assert.equal(1 in (back.sparse as unknown[]), false, "holes stay holes");
  });

  it("round-trip each top-level kind as its own argument", async () => {
    const values: unknown[] = [
      new Date(1_700_000_000_000),
      new Map([["k", "v"]]),
      new Set([1, 2]),
      123n,
      new Uint16Array([1, 65535]),
      [1, [2, [3]]],
      { a: { b: { c: 1 } } },
      "text",
      42,
      null,
    ];
    for (const value of values) {
      const r = await runToEnd(queue, identity, value);
      assert.deepStrictEqual(r.result, value);
    }
  });

  it("keeps the arguments a job was enqueued with in its snapshot", async () => {
    const value = { when: new Date(5), tags: new Set(["t"]) };
    const r = await runToEnd(queue, identity, value);
    assert.deepStrictEqual(r.args, [value]);
  });

  const notCloneable: [string, unknown[], RegExp][] = [
    ["a function", [() => 1], /args\[0\].*function/],
    [
      "a function nested in an object",
      [1, { a: { b: function named() {} } }],
      /args\[1\]\.a\.b.*named/,
    ],
    ["a symbol", [Symbol("s")], /args\[0\].*symbol/],
    ["a symbol in an array", [[1, 2, Symbol.iterator]], /args\[0\]\[2\]/],
    ["a socket", [new Socket()], /args\[0\]/],
    ["a function inside a Map", [new Map([["k", () => 0]])], /args\[0\]/],
    ["a WeakMap", [new WeakMap()], /args\[0\].*WeakMap/],
    ["an array nested 10,000 levels deep", [nest(10_000, (v) => [v])], /args\[0\].*nested/],
    ["an object nested 5,000 levels deep", [nest(5_000, (v) => ({ v }))], /args\[0\].*nested/],
  ];

  for (const [what, args, names] of notCloneable) {
    it(`rejects ${what} at enqueue with ERR_ARGUMENT_NOT_CLONEABLE naming the argument, storing nothing`, async () => {
      const before = await queue.countJobs();
      const listed = (await queue.listJobs()).length;
      const id = randomUUID();
      const error = await caught(() => queue.enqueue(id, identity, args));
      assert.ok(error instanceof JobError, String(error));
      assert.equal(error.code, ErrorCode.ARGUMENT_NOT_CLONEABLE);
      assert.match(error.message, names);
      assert.deepEqual(await queue.countJobs(), before);
      assert.equal((await queue.listJobs()).length, listed);
      assert.equal(await queue.getResult(id), undefined);
    });
  }

  it("rejects an uncloneable argument given to task.enqueue() the same way", async () => {
    const before = await queue.countJobs();
    const error = await caught(() => identity.enqueue(() => "no"));
    assert.equal(error.code, ErrorCode.ARGUMENT_NOT_CLONEABLE);
    assert.deepEqual(await queue.countJobs(), before);
  });

  it("fails a job whose result cannot be cloned back, with a clear error, and carries on", async () => {
    const r = await runToEnd(queue, returnFunction);
    assert.equal(r.status, "failed");
    assert.equal(r.errorCode, ErrorCode.RESULT_NOT_CLONEABLE);
    assert.match(r.error ?? "", /could not be cloned/i);
    const after = await runToEnd(queue, identity, "next");
    assert.equal(after.result, "next");
  });
});
