import { DefaultDeserializer, DefaultSerializer } from "node:v8";
import { findBuffers, movesPending, unmark } from "../move.js";
import { decodeFlat, encodeFlat, NO_BYTES, viewOf, viewType } from "./moved-views.js";
import { ArgsEncoding } from "./protocol.js";

/**
 * Arguments of an in-memory job, kept by the store and sent to a thread.
 *
 * Without `move()` or SharedArrayBuffers they are `v8.serialize` bytes, as
 * before. With them, the bytes hold everything else and refer to the buffers
 * by index: the moved buffers travel in the postMessage transfer list (the
 * memory itself, never a copy) and the shared ones are shared.
 */
export interface ThreadArgs {
  /** Encoded arguments; undefined for none. */
  bytes: Uint8Array | undefined;
  encoding: ArgsEncoding;
  /** Set with {@link ArgsEncoding.V8_MOVED}: the buffers the bytes refer to. */
  moved?: MovedArgs;
}

/**
 * The buffers of one job's arguments. Mutable on purpose: while an attempt
 * runs, `buffers` are detached here (their memory is on the thread); the
 * thread hands them back with its answer and the executor puts them back, so
 * the next attempt sees the same bytes.
 */
export interface MovedArgs {
  buffers: ArrayBuffer[];
  /** byteLength of each buffer at enqueue: a shorter one now was lost (detached). */
  lengths: number[];
  shared: SharedArrayBuffer[];
  /**
   * The arguments in the flat form instead of bytes (see {@link encodeFlat}):
   * every one a primitive or a whole moved buffer or view.
   */
  flat?: unknown[];
}

/** True when every moved buffer is home (not lost with a thread or given away by the job). */
export function movedIntact(moved: MovedArgs): boolean {
  return moved.buffers.every((b, i) => b.byteLength === moved.lengths[i]);
}

/** Puts the argument buffers a thread handed back (by index; missing: given away) home, for a retry. */
export function putBack(moved: MovedArgs, returned: readonly (ArrayBuffer | undefined)[]): void {
  for (const [i, buffer] of returned.entries()) if (buffer) moved.buffers[i] = buffer;
}

// Tags before each typed array or DataView in the V8_MOVED format.
const COPY = 0;
const MOVED = 1;
const SHARED = 2;
/** A bare SharedArrayBuffer, stood in for by a view (v8 offers no hook for those). */
const BARE_SHARED = 3;

// Node's default (de)serializers write typed arrays through these hooks,
// which its type definitions leave out.
const Serializer = DefaultSerializer as unknown as new () => DefaultSerializer & {
  _writeHostObject(view: ArrayBufferView): void;
  _getSharedArrayBufferId(buffer: SharedArrayBuffer): number;
};
const Deserializer = DefaultDeserializer as unknown as new (
  bytes: Uint8Array,
) => DefaultDeserializer & { _readHostObject(): unknown };

/** Thrown by the plain serializer when the arguments need the V8_MOVED format. */
const NEEDS_SHARING = new Error("arguments hold a SharedArrayBuffer");

/** `v8.serialize`, except that it stops at a SharedArrayBuffer rather than copy or refuse it. */
class PlainSerializer extends Serializer {
  override _writeHostObject(view: ArrayBufferView): void {
    if (view.buffer instanceof SharedArrayBuffer) throw NEEDS_SHARING;
    super._writeHostObject(view);
  }
  override _getSharedArrayBufferId(): number {
    throw NEEDS_SHARING;
  }
}

/** Writes views of moved and shared buffers as references, everything else as `v8.serialize` does. */
class MovingSerializer extends Serializer {
  constructor(
    readonly moved: ArrayBuffer[],
    readonly shared: SharedArrayBuffer[],
    readonly bareShared: Map<ArrayBufferView, number>,
  ) {
    super();
  }

  override _writeHostObject(view: ArrayBufferView): void {
    const bare = this.bareShared.get(view);
    if (bare !== undefined) {
      this.writeUint32(BARE_SHARED);
      this.writeUint32(bare);
      return;
    }
    const buffer = view.buffer;
    const type = viewType(view);
    const movedId = buffer instanceof ArrayBuffer ? this.moved.indexOf(buffer) : -1;
    let sharedId = -1;
    if (buffer instanceof SharedArrayBuffer) {
      sharedId = this.shared.indexOf(buffer);
      if (sharedId < 0) sharedId = this.shared.push(buffer) - 1;
    }
    if (type < 0 || (movedId < 0 && sharedId < 0)) {
      this.writeUint32(COPY);
      super._writeHostObject(view);
      return;
    }
    this.writeUint32(movedId >= 0 ? MOVED : SHARED);
    this.writeUint32(movedId >= 0 ? movedId : sharedId);
    this.writeUint32(type);
    this.writeUint32(view.byteOffset);
    this.writeUint32(view.byteLength);
  }

  override _getSharedArrayBufferId(): number {
    // Only a bare SharedArrayBuffer inside a cycle gets here (see standIns).
    throw new Error("a SharedArrayBuffer inside a cyclic structure cannot be shared");
  }
}

class MovingDeserializer extends Deserializer {
  constructor(
    bytes: Uint8Array,
    readonly moved: MovedArgs,
  ) {
    super(bytes);
  }

  override _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === COPY) return super._readHostObject();
    const id = this.readUint32();
    if (tag === BARE_SHARED) return this.moved.shared[id];
    const type = this.readUint32();
    const offset = this.readUint32();
    const byteLength = this.readUint32();
    const buffer: ArrayBufferLike =
      tag === MOVED ? this.moved.buffers[id]! : this.moved.shared[id]!;
    return viewOf(buffer, type, offset, byteLength);
  }
}

/**
 * Encodes a job's arguments for a worker thread of this process. Buffers
 * marked with `move()` are detached from the caller and kept in the result
 * (one copy in memory, the caller's); SharedArrayBuffers are shared. Throws
 * what `serialize` throws for a value that cannot be cloned.
 */
export function encodeThreadArgs(args: unknown[]): ThreadArgs {
  if (args.length === 0) return { bytes: undefined, encoding: ArgsEncoding.NONE };
  // No mark anywhere: no walk, and the bytes are v8.serialize's own.
  let found = movesPending() ? findBuffers(args, true) : undefined;
  if (found === undefined || (found.moved.length === 0 && found.shared.length === 0)) {
    const bytes = plainBytes(args);
    if (bytes !== undefined) return { bytes, encoding: ArgsEncoding.V8 };
    found ??= findBuffers(args, true);
  }
  const flat = found.shared.length === 0 ? encodeFlat(args, found.moved) : undefined;
  if (flat !== undefined) return movedArgs(NO_BYTES, found.moved, [], flat);
  const bareShared = new Map<ArrayBufferView, number>();
  const value = found.shared.length === 0 ? args : standIns(args, found.shared, bareShared);
  const serializer = new MovingSerializer(found.moved, found.shared, bareShared);
  // A moved buffer held directly (not through a view) is written by v8
  // itself, as a reference to the same index.
  for (const [i, buffer] of found.moved.entries()) serializer.transferArrayBuffer(i, buffer);
  serializer.writeHeader();
  serializer.writeValue(value);
  return movedArgs(serializer.releaseBuffer(), found.moved, serializer.shared, undefined);
}

/**
 * Only once the arguments are known to clone: the caller's buffers are
 * detached (their memory moves into ours; a buffer Node marks as not
 * transferable, such as a pooled Buffer's, is copied instead).
 */
function movedArgs(
  bytes: Uint8Array,
  moved: ArrayBuffer[],
  shared: SharedArrayBuffer[],
  flat: unknown[] | undefined,
): ThreadArgs {
  const buffers = moved.map((b) => structuredClone(b, { transfer: [b] }));
  unmark(moved);
  const lengths = buffers.map((b) => b.byteLength);
  return {
    bytes,
    encoding: ArgsEncoding.V8_MOVED,
    moved: flat !== undefined ? { buffers, lengths, shared, flat } : { buffers, lengths, shared },
  };
}

/** `v8.serialize` bytes, or undefined when the arguments hold shared memory. */
function plainBytes(args: unknown[]): Buffer | undefined {
  const plain = new PlainSerializer();
  plain.writeHeader();
  try {
    plain.writeValue(args);
  } catch (error) {
    if (error === NEEDS_SHARING) return undefined;
    throw error;
  }
  return plain.releaseBuffer();
}

/** Decodes {@link ThreadArgs} (on a thread, or on the main thread for a snapshot). */
export function decodeThreadArgsValue(bytes: Uint8Array, moved: MovedArgs): unknown {
  if (moved.flat !== undefined) return decodeFlat(moved.flat, moved);
  const deserializer = new MovingDeserializer(bytes, moved);
  deserializer.readHeader();
  for (const [i, buffer] of moved.buffers.entries()) deserializer.transferArrayBuffer(i, buffer);
  return deserializer.readValue();
}

/**
 * A copy of the containers on the way to each bare SharedArrayBuffer, with
 * the buffer replaced by a view standing in for it (written as BARE_SHARED):
 * v8 offers no hook to write a SharedArrayBuffer this Node can read back.
 */
function standIns(
  root: unknown[],
  shared: SharedArrayBuffer[],
  bareShared: Map<ArrayBufferView, number>,
): unknown {
  const memo = new Map<object, unknown>();
  const visit = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (value instanceof SharedArrayBuffer) {
      const view = new Uint8Array(value);
      bareShared.set(view, shared.indexOf(value));
      return view;
    }
    if (memo.has(value)) return memo.get(value);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
    if (value instanceof Date || value instanceof RegExp || value instanceof Error) return value;
    memo.set(value, value);
    let out: unknown = value;
    if (Array.isArray(value)) {
      const copy = value.map(visit);
      if (copy.some((v, i) => v !== value[i])) out = copy;
    } else if (value instanceof Map) {
      const copy = new Map([...value].map(([k, v]) => [visit(k), visit(v)]));
      out = copy;
    } else if (value instanceof Set) {
      out = new Set([...value].map(visit));
    } else {
      const obj = value as Record<string, unknown>;
      const copy: Record<string, unknown> = {};
      let changed = false;
      for (const key of Object.keys(obj)) {
        copy[key] = visit(obj[key]);
        if (copy[key] !== obj[key]) changed = true;
      }
      if (changed) out = copy;
    }
    memo.set(value, out);
    return out;
  };
  return visit(root);
}

/** Checks that a value clones, without copying the buffers listed (they will move). */
class CheckingSerializer extends Serializer {
  constructor(readonly moved: readonly ArrayBuffer[]) {
    super();
  }
  override _writeHostObject(view: ArrayBufferView): void {
    const buffer = view.buffer;
    if (buffer instanceof SharedArrayBuffer || this.moved.includes(buffer)) this.writeUint32(0);
    else super._writeHostObject(view);
  }
  override _getSharedArrayBufferId(): number {
    return 0;
  }
}

/** Throws what structured clone would throw for `value`, buffers in `moved` left uncopied. */
export function assertSerializable(value: unknown, moved: readonly ArrayBuffer[]): void {
  const serializer = new CheckingSerializer(moved);
  for (const [i, buffer] of moved.entries()) serializer.transferArrayBuffer(i, buffer);
  serializer.writeHeader();
  serializer.writeValue(value);
}
