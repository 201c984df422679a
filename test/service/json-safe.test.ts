import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { getQueue } from "rapidai/background";
import { toJsonSafe } from "rapidai/service";
import "./fixtures/result-tasks.js";
import { closeQueue, enqueue, pollJob, startService } from "./harness.js";

describe("toJsonSafe", () => {
  test("renders each structured-clone type by its documented rule", () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const shared = { x: 1 };
    const error = Object.assign(new Error("bad"), { code: "E_BAD" });
    assert.deepEqual(
      toJsonSafe({
        big: 2n ** 70n,
        date: new Date("2024-05-06T07:08:09.000Z"),
        badDate: new Date(Number.NaN),
        map: new Map<unknown, unknown>([["k", new Set([1n])]]),
        set: new Set(["a"]),
        u8: new Uint8Array([1, 2]),
        f32: new Float32Array([1.5, Number.POSITIVE_INFINITY]),
        b64: new BigUint64Array([3n]),
        buffer: new Uint8Array([9, 8]).buffer,
        view: new DataView(new Uint8Array([7, 6, 5]).buffer, 1, 2),
        error,
        regexp: /a+/g,
        boxed: [Object("s"), Object(2), Object(true)],
        numbers: [Number.NaN, -0, Number.NEGATIVE_INFINITY],
        holes: [undefined, () => 1, Symbol("s")],
        skipped: undefined,
        fn: () => 1,
        cycle,
        twice: [shared, shared],
      }),
      {
        big: "1180591620717411303424",
        date: "2024-05-06T07:08:09.000Z",
        badDate: null,
        map: [["k", ["1"]]],
        set: ["a"],
        u8: [1, 2],
        f32: [1.5, null],
        b64: ["3"],
        buffer: [9, 8],
        view: [6, 5],
        error: { name: "Error", message: "bad", code: "E_BAD" },
        regexp: "/a+/g",
        boxed: ["s", 2, true],
        numbers: [null, 0, null],
        holes: [null, null, null],
        cycle: { a: 1, self: "[Circular]" },
        twice: [{ x: 1 }, { x: 1 }],
      },
    );
  });

  test("never carries an error's stack", () => {
    const out = JSON.stringify(toJsonSafe({ e: new TypeError("t") }));
    assert.doesNotMatch(out, /stack|\bat /);
  });

  test("cuts nesting deeper than 200 levels instead of overflowing", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const out = JSON.stringify(toJsonSafe(deep));
    assert.match(out, /"\[Too deep\]"/);
  });
});

describe("results over HTTP", () => {
  const queue = getQueue("memory", { threads: 1 });
  after(() => closeQueue(queue));

  test("a result holding BigInt, Map, Set, Date, typed arrays and a cycle is a 200 with the rendered JSON", async () => {
    const svc = await startService({ queue });
    try {
      const id = await enqueue(svc.base, "richResult", []);
      const job = await pollJob(svc.base, id);
      assert.equal(job.status, "completed");
      assert.deepEqual(job.result, {
        big: "12345678901234567890",
        when: "2024-01-02T03:04:05.678Z",
        map: [
          ["a", 1],
          [2, "b"],
        ],
        set: [1, 2, 3],
        bytes: [1, 2, 255],
        floats: [0.5, null],
        bigs: ["-1", "2"],
        notANumber: null,
        cycle: { name: "loop", self: "[Circular]" },
      });
    } finally {
      await svc.close();
    }
  });
});
