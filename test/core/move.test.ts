import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ErrorCode, move } from "rapidai/background";
import {
  bumpShared,
  doubled,
  flatArgs,
  inPlace,
  nested,
  type Seen,
  sumOnSecondTry,
  sumValues,
  threadAfter,
} from "../fixtures/compute-tasks.js";
import { caught, closeQueues, enqueue, openQueue, runToEnd } from "./helpers.js";

after(() => closeQueues());

function ramp(length: number): Float64Array {
  const values = new Float64Array(length);
  for (let i = 0; i < length; i++) values[i] = i;
  return values;
}

const rampSum = (length: number) => (length * (length - 1)) / 2;

describe("move(): buffers transferred, not copied (in memory)", () => {
  it("detaches the caller's buffer at enqueue and hands its bytes to the job", async () => {
    const queue = openQueue();
    const values = ramp(100_000);
    const id = await enqueue(queue, sumValues, move(values));
    assert.equal(values.length, 0, "the caller's view is detached, as with postMessage");
    assert.equal(values.buffer.byteLength, 0);
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "completed", r.error);
    const seen = r.result as Seen;
    assert.equal(seen.length, 100_000);
    assert.equal(seen.sum, rampSum(100_000));
    assert.equal(seen.shared, false);
  });

  it("keeps the caller's buffer when move() is not used (the bytes are copied)", async () => {
    const queue = openQueue();
    const values = ramp(1000);
    const r = await runToEnd(queue, sumValues, values);
    assert.equal(r.status, "completed", r.error);
    assert.equal(values.length, 1000);
    assert.equal((r.result as Seen).sum, rampSum(1000));
  });

  it("gives a retry the same bytes: the thread hands the buffer back when the attempt ends", async () => {
    const queue = openQueue();
    const r = await runToEnd(queue, sumOnSecondTry, move(ramp(50_000)));
    assert.equal(r.status, "completed", r.error);
    assert.equal(r.attempts, 2);
    const seen = r.result as Seen;
    assert.equal(seen.attempt, 2);
    assert.equal(seen.length, 50_000);
    assert.equal(seen.sum, rampSum(50_000));
    // Home again after the attempts: the job's arguments still read whole.
    const stored = await queue.getResult(r.jobId);
    const args = stored?.args as [Float64Array];
    assert.ok(args[0] instanceof Float64Array);
    assert.equal(args[0].length, 50_000);
    assert.equal(args[0][49_999], 49_999);
  });

  it("moves a result wrapped in move() back to the caller as the same typed array", async () => {
    const queue = openQueue();
    const r = await runToEnd(queue, doubled, move(ramp(10_000)));
    assert.equal(r.status, "completed", r.error);
    const out = r.result as Float64Array;
    assert.ok(out instanceof Float64Array, `got ${Object.prototype.toString.call(out)}`);
    assert.equal(out.length, 10_000);
    assert.equal(out[9_999], 19_998);
  });

  it("lets a job write into its moved argument and move it back inside an object", async () => {
    const queue = openQueue();
    const r = await runToEnd(queue, inPlace, move(ramp(4096)));
    assert.equal(r.status, "completed", r.error);
    const { values } = r.result as { values: Float64Array };
    assert.ok(values instanceof Float64Array);
    assert.equal(values.length, 4096);
    assert.equal(values[0], 1);
    assert.equal(values[4095], 4096);
  });

  it("finds moved buffers anywhere in the arguments: arrays, objects, a Map, a bare ArrayBuffer", async () => {
    const queue = openQueue();
    const a = ramp(10);
    const b = ramp(20);
    const raw = new ArrayBuffer(64);
    new Uint8Array(raw)[0] = 42;
    const keyed = new Uint8Array(7);
    const id = await enqueue(queue, nested, {
      list: [move(a), move(b)],
      raw: move(raw),
      byKey: new Map([["k", move(keyed)]]),
      note: "kept",
    });
    for (const detached of [a.byteLength, b.byteLength, raw.byteLength, keyed.byteLength]) {
      assert.equal(detached, 0, "every moved buffer left the caller");
    }
    const r = await queue.waitFor(id, { timeoutMs: 20_000 });
    assert.equal(r.status, "completed", r.error);
    assert.deepEqual(r.result, {
      lists: [10, 20],
      raw: 64,
      firstRawByte: 42,
      keyed: 7,
      note: "kept",
    });
  });

  it("hands flat arguments (primitives beside moved views, a DataView, a Buffer, a bare ArrayBuffer) to the job and to its retry as they were", async () => {
    const queue = openQueue();
    const shared = new ArrayBuffer(32);
    const window = new Uint16Array(shared, 8, 4);
    window[0] = 513;
    const dvBuffer = new ArrayBuffer(16);
    const dv = new DataView(dvBuffer, 4, 8);
    dv.setUint8(0, 9);
    const bytes = Buffer.from(new TextEncoder().encode("hello").buffer);
    const raw = new ArrayBuffer(10);
    new Uint8Array(raw)[1] = 77;
    const r = await runToEnd(
      queue,
      flatArgs,
      move(window),
      move(dv),
      move(bytes),
      move(raw),
      "label",
      3,
      null,
    );
    assert.equal(window.byteLength, 0, "the caller's view is detached");
    assert.equal(r.status, "completed", r.error);
    assert.equal(r.attempts, 2);
    assert.deepEqual(r.result, {
      window: ["Uint16Array", 8, 4, 513],
      dv: ["DataView", 8, 9],
      bytes: [true, "hello"],
      raw: [10, 77],
      primitives: ["label", 3, null],
    });
    const stored = (await queue.getResult(r.jobId))?.args as unknown[];
    assert.ok(
      stored[0] instanceof Uint16Array && stored[0][0] === 513,
      "a snapshot reads the bytes",
    );
    assert.deepEqual(stored.slice(4), ["label", 3, null]);
  });

  it("adds no copy of the moved bytes while jobs wait", async () => {
    const queue = openQueue();
    // Hold the only thread, so the jobs below stay pending with their buffers.
    const holder = await enqueue(queue, threadAfter, 300);
    const arrays = Array.from({ length: 8 }, () => new Float64Array(512 * 1024)); // 4 MiB each
    const before = process.memoryUsage().arrayBuffers;
    const ids = await Promise.all(arrays.map((values) => enqueue(queue, sumValues, move(values))));
    const grown = process.memoryUsage().arrayBuffers - before;
    // A copy each would add 32 MiB; the bytes only changed hands.
    assert.ok(grown < 4 * 1024 * 1024, `arrayBuffers grew by ${grown} bytes`);
    const results = await Promise.all(
      [holder, ...ids].map((id) => queue.waitFor(id, { timeoutMs: 20_000 })),
    );
    for (const r of results) assert.equal(r.status, "completed", r.error);
  });

  it("shares SharedArrayBuffer arguments, bare or behind a view, instead of copying them", async () => {
    const queue = openQueue();
    const cells = new Int32Array(new SharedArrayBuffer(16));
    const bare = new SharedArrayBuffer(8);
    const r = await runToEnd(queue, bumpShared, cells, bare);
    assert.equal(r.status, "completed", r.error);
    const seen = r.result as Seen & { bare: boolean };
    assert.equal(seen.shared, true);
    assert.equal(seen.bare, true);
    assert.equal(Atomics.load(cells, 0), 1, "the job wrote into the caller's memory");
    assert.equal(Atomics.load(new Int32Array(bare), 0), 10);
  });

  it("returns its argument, and refuses what is not a buffer with ERR_INVALID_OPTION", async () => {
    const values = new Float64Array(2);
    assert.equal(move(values), values);
    const error = await caught(() => move(123 as unknown as ArrayBuffer));
    assert.equal(error.code, ErrorCode.INVALID_OPTION);
    assert.match(error.message, /move\(\)/);
  });
});
