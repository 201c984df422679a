/**
 * Views of moved buffers, as both argument formats of thread-args.ts write
 * them (a view type by index, an offset, a length), and the flat form: the
 * arguments kept as a list instead of bytes.
 */

// Our own table of view types (Node's is internal): index ↔ constructor.
export const VIEW_TYPES = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  DataView,
  Buffer,
  BigInt64Array,
  BigUint64Array,
] as const;

export function viewType(view: ArrayBufferView): number {
  if (Buffer.isBuffer(view)) return VIEW_TYPES.indexOf(Buffer);
  return VIEW_TYPES.findIndex((c) => c !== Buffer && view.constructor === c);
}

/** The bytes of arguments kept in the flat form: none (never written to). */
export const NO_BYTES = new Uint8Array(0);

/**
 * The common shape, `[move(bytes), 2, "x"]`, kept as a list rather than
 * bytes: each argument as it is (a primitive), or a moved view as
 * `[buffer index, view type, byteOffset, byteLength]`, a bare moved
 * ArrayBuffer as `[buffer index]`. Serializing it would cost the
 * serializer's set-up and a callback into JavaScript per view, several times
 * the transfer itself; the list is cloned with the message that carries it.
 * Undefined when an argument is anything else (an object, a copied view):
 * the full format then.
 */
export function encodeFlat(args: unknown[], moved: ArrayBuffer[]): unknown[] | undefined {
  const out: unknown[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const value = args[i];
    // The same object twice must decode as one object, as structured clone keeps it.
    if (typeof value === "object" && value !== null && args.indexOf(value) !== i) return undefined;
    if (value === null || (typeof value !== "object" && typeof value !== "function")) {
      out[i] = value;
      continue;
    }
    if (value instanceof ArrayBuffer) {
      const id = moved.indexOf(value);
      if (id < 0) return undefined;
      out[i] = [id];
      continue;
    }
    if (!ArrayBuffer.isView(value)) return undefined;
    const id = moved.indexOf(value.buffer as ArrayBuffer);
    const type = viewType(value);
    if (id < 0 || type < 0) return undefined;
    out[i] = [id, type, value.byteOffset, value.byteLength];
  }
  return out;
}

export function decodeFlat(
  flat: readonly unknown[],
  moved: { buffers: readonly ArrayBuffer[] },
): unknown[] {
  return flat.map((ref) => {
    if (!Array.isArray(ref)) return ref;
    const buffer = moved.buffers[ref[0] as number]!;
    return ref.length === 1 ? buffer : viewOf(buffer, ref[1], ref[2], ref[3]);
  });
}

/** A view of a moved buffer; an empty one when the buffer is away on a thread (detached). */
export function viewOf(
  buffer: ArrayBufferLike,
  type: number,
  offset: number,
  byteLength: number,
): unknown {
  const Type = VIEW_TYPES[type]!;
  // A moved buffer away on a thread (the main thread decoding for a
  // snapshot): the view is detached, as the caller's own is.
  if (buffer.byteLength < offset + byteLength) {
    return Type === Buffer
      ? Buffer.alloc(0)
      : Type === DataView
        ? new DataView(new ArrayBuffer(0))
        : new (Type as typeof Uint8Array)(0);
  }
  if (Type === Buffer) return Buffer.from(buffer, offset, byteLength);
  if (Type === DataView) return new DataView(buffer, offset, byteLength);
  const T = Type as unknown as new (b: ArrayBufferLike, o: number, n: number) => ArrayBufferView;
  return new T(buffer, offset, byteLength / (Type as typeof Uint8Array).BYTES_PER_ELEMENT);
}
