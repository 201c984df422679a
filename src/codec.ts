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
  const where = findUncloneable(args) ?? { path: "args", kind: "a value" };
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

/**
 * Nesting deeper than this is reported as such: structured clone and the
 * msgpack encoder recurse, and give up somewhere in the thousands of levels.
 */
const MAX_DEPTH = 1000;
/** Longest path named in the message (a deep one is cut in the middle). */
const MAX_PATH = 120;

function shortPath(path: string): string {
  return path.length <= MAX_PATH ? path : `${path.slice(0, 60)}…${path.slice(-50)}`;
}

function children(value: object, path: string): [string, unknown][] {
  if (Array.isArray(value)) return value.map((v, i) => [`${path}[${i}]`, v]);
  if (value instanceof Map)
    return [...value.entries()].map(([k, v]) => [`${path}.get(${String(k)})`, v]);
  if (value instanceof Set) return [...value].map((v, i) => [`${path} (set item ${i})`, v]);
  return Object.keys(value).map((k) => [`${path}.${k}`, (value as Record<string, unknown>)[k]]);
}

/**
 * Walks to the first value that structured clone refuses, for the error
 * message: a function or a symbol, else nesting too deep, else the
 * innermost object clone refuses (a socket, a WeakMap). A loop with its own
 * stack, not recursion: the argument may be nested deeper than any call
 * stack goes (that is often why clone failed).
 */
function findUncloneable(args: unknown[]): { path: string; kind: string } | undefined {
  const seen = new Set<unknown>();
  // Depth-first, children in order; each object is visited again after its
  // children ("post") to try cloning it alone.
  const stack: { value: unknown; path: string; depth: number; post: boolean }[] = [
    { value: args, path: "args", depth: 0, post: false },
  ];
  let deepest: { path: string; depth: number } | undefined;
  while (stack.length > 0) {
    const { value, path, depth, post } = stack.pop()!;
    if (typeof value === "function" || typeof value === "symbol")
      return { path: shortPath(path), kind: describe(value) };
    if (value === null || typeof value !== "object") continue;
    if (post) {
      // Only worth trying where the nesting is shallow enough to clone at all.
      if (deepest === undefined) {
        try {
          serialize(value);
        } catch {
          return { path: shortPath(path), kind: describe(value) };
        }
      }
      continue;
    }
    if (seen.has(value)) continue;
    seen.add(value);
    if (depth > MAX_DEPTH) {
      deepest ??= { path, depth };
      continue;
    }
    stack.push({ value, path, depth, post: true });
    const kids = children(value, path);
    for (let i = kids.length - 1; i >= 0; i--) {
      const [p, v] = kids[i]!;
      stack.push({ value: v, path: p, depth: depth + 1, post: false });
    }
  }
  if (deepest !== undefined) {
    const top = deepest.path.match(/^args(\[\d+\])?/)?.[0] ?? "args";
    return { path: top, kind: `a value nested more than ${MAX_DEPTH} levels deep` };
  }
  return undefined;
}
