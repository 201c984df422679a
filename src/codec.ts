import { deserialize, serialize } from "node:v8";
import { Packr } from "msgpackr";
import { ErrorCode, jobError } from "./errors.js";
import { ArgsEncoding } from "./executor/protocol.js";
import {
  decodeThreadArgsValue,
  encodeThreadArgs,
  type ThreadArgs,
} from "./executor/thread-args.js";
import { withNegativeZeros } from "./msgpack-extensions.js";

export type { MovedArgs, ThreadArgs } from "./executor/thread-args.js";

/**
 * Payload encodings. In one process, `v8.serialize` is structured clone
 * itself. What goes to Redis is msgpack in msgpackr's structured-clone mode:
 * plain data that cannot run code when read, and stable across Node versions
 * (v8's format is not), while keeping Date, Map, Set, BigInt and typed arrays
 * (and, through src/msgpack-extensions.ts, `-0` and an Error's own stack).
 */
const packr = new Packr({
  structuredClone: true,
  useBigIntExtension: true,
  moreTypes: true,
  mapsAsObjects: false,
});

/** msgpack bytes of a value. */
export function encodeMsgpack(value: unknown): Buffer {
  return packr.pack(withNegativeZeros(value));
}

/** Decodes msgpack bytes; garbage is `ERR_PAYLOAD_CORRUPT`. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw jobError(
      ErrorCode.PAYLOAD_CORRUPT,
      `payload cannot be decoded: ${(error as Error).message}`,
      error,
    );
  }
}

/** Structured-clone bytes of the arguments, or `ERR_ARGUMENT_NOT_CLONEABLE` naming the culprit. */
export function encodeV8(args: unknown[]): Buffer {
  try {
    return serialize(args);
  } catch (error) {
    throw notCloneable(args, error);
  }
}

export function decodeV8(bytes: Uint8Array): unknown {
  try {
    return deserialize(bytes);
  } catch (error) {
    throw jobError(
      ErrorCode.PAYLOAD_CORRUPT,
      `payload cannot be decoded: ${(error as Error).message}`,
      error,
    );
  }
}

/**
 * Encodes a job's arguments for a worker thread of this process (the
 * in-memory store calls it at enqueue). Buffers marked with `move()` are
 * detached from the caller and kept in `moved`, to travel in the thread's
 * transfer list; SharedArrayBuffers are shared. Without either, the bytes
 * are `v8.serialize`'s. `ERR_ARGUMENT_NOT_CLONEABLE` names a bad argument.
 */
export function prepareThreadArgs(args: unknown[]): ThreadArgs {
  try {
    return encodeThreadArgs(args);
  } catch (error) {
    throw notCloneable(args, error);
  }
}

/**
 * The arguments back from {@link prepareThreadArgs} (a snapshot on the main
 * thread). A moved buffer that is on a thread right now reads as detached
 * (empty), as the caller's own view does.
 */
export function decodeThreadArgs(args: ThreadArgs): unknown[] {
  if (args.bytes === undefined || args.encoding === ArgsEncoding.NONE) return [];
  const value =
    args.moved === undefined ? decodeV8(args.bytes) : decodeThreadArgsValue(args.bytes, args.moved);
  return value as unknown[];
}

/**
 * Throws `ERR_ARGUMENT_NOT_CLONEABLE` unless every argument survives
 * structured clone. Used where the payload itself is not v8's (Redis).
 */
export function assertCloneable(args: unknown[]): void {
  encodeV8(args);
}

/** Throws `ERR_PAYLOAD_TOO_LARGE` when the encoded size is over the limit. */
export function assertPayloadSize(bytes: number, limit: number, what = "arguments"): void {
  if (bytes > limit) {
    throw jobError(
      ErrorCode.PAYLOAD_TOO_LARGE,
      `the encoded ${what} are ${bytes} bytes, over the limit of ${limit}`,
    );
  }
}

function notCloneable(args: unknown[], cause: unknown) {
  const where = findUncloneable(args, "args", new Set()) ?? { path: "args", kind: "a value" };
  return jobError(
    ErrorCode.ARGUMENT_NOT_CLONEABLE,
    `${where.path} (${where.kind}) cannot be cloned to a worker: pass plain data ` +
      "(objects, arrays, strings, numbers, Date, Map, Set, BigInt, typed arrays)",
    cause,
  );
}

function describe(value: unknown): string {
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol") return "a symbol";
  const ctor = (value as object)?.constructor?.name;
  return ctor ? `a ${ctor}` : "an object";
}

/** Walks to the first value that structured clone refuses, for the error message. */
function findUncloneable(
  value: unknown,
  path: string,
  seen: Set<unknown>,
): { path: string; kind: string } | undefined {
  if (typeof value === "function" || typeof value === "symbol")
    return { path, kind: describe(value) };
  if (value === null || typeof value !== "object" || seen.has(value)) return undefined;
  seen.add(value);
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v])
    : value instanceof Map
      ? [...value.entries()].map(([k, v]) => [`${path}.get(${String(k)})`, v])
      : value instanceof Set
        ? [...value].map((v, i) => [`${path} (set item ${i})`, v])
        : Object.keys(value).map((k) => [`${path}.${k}`, (value as Record<string, unknown>)[k]]);
  for (const [p, v] of entries) {
    const found = findUncloneable(v, p, seen);
    if (found !== undefined) return found;
  }
  try {
    serialize(value);
    return undefined;
  } catch {
    return { path, kind: describe(value) };
  }
}
