/**
 * Job arguments and results are structured-clone values, which JSON cannot
 * hold as they are: `JSON.stringify` throws on a BigInt or a cycle, and turns
 * a Map or a Set into `{}`. The service renders them by the fixed rules below
 * (documented in docs/service.md) instead of answering 500 or losing data.
 *
 * | value                         | JSON                                   |
 * | ----------------------------- | -------------------------------------- |
 * | BigInt                        | decimal string, `"12345678901234567890"` |
 * | Date                          | ISO 8601 string (`null` if invalid)    |
 * | Map                           | array of `[key, value]` pairs          |
 * | Set                           | array of its values                    |
 * | typed array, DataView         | array of numbers (BigInt64 ones: strings) |
 * | ArrayBuffer                   | array of its bytes                     |
 * | Error                         | `{ name, message, code? }` (never a stack) |
 * | RegExp                        | its source, `"/a+/g"`                  |
 * | NaN, ±Infinity                | `null`                                 |
 * | boxed primitive               | the primitive                          |
 * | a cycle back to an ancestor   | `"[Circular]"`                         |
 * | nesting deeper than 200       | `"[Too deep]"`                         |
 * | function, symbol, undefined   | left out of objects, `null` in arrays  |
 */

const MAX_DEPTH = 200;

/** A JSON value. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Renders any structured-clone value as a JSON value, by the rules above. */
export function toJsonSafe(value: unknown): JsonValue {
  return render(value, [], 0) ?? null;
}

// `undefined` means "leave it out" (in an object) or `null` (in an array).
function render(value: unknown, ancestors: object[], depth: number): JsonValue | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null;
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  if (depth >= MAX_DEPTH) return "[Too deep]";
  if (ancestors.includes(obj)) return "[Circular]";
  ancestors.push(obj);
  try {
    return renderObject(obj, ancestors, depth + 1);
  } finally {
    ancestors.pop();
  }
}

function renderObject(obj: object, ancestors: object[], depth: number): JsonValue | undefined {
  const list = (items: Iterable<unknown>): JsonValue[] => {
    const out: JsonValue[] = [];
    for (const item of items) out.push(render(item, ancestors, depth) ?? null);
    return out;
  };
  if (Array.isArray(obj)) return list(obj);
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (obj instanceof Map) return [...obj].map(([k, v]) => list([k, v]));
  if (obj instanceof Set) return list(obj);
  if (obj instanceof BigInt64Array || obj instanceof BigUint64Array) {
    return Array.from(obj, (n) => n.toString());
  }
  if (ArrayBuffer.isView(obj)) {
    if (obj instanceof DataView)
      return Array.from(new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength));
    return Array.from(obj as unknown as ArrayLike<number>, (n) => (Number.isFinite(n) ? n : null));
  }
  if (obj instanceof ArrayBuffer || obj instanceof SharedArrayBuffer)
    return Array.from(new Uint8Array(obj));
  if (obj instanceof Error) {
    const out: { [key: string]: JsonValue } = { name: obj.name, message: obj.message };
    const code = (obj as { code?: unknown }).code;
    if (typeof code === "string") out.code = code;
    return out;
  }
  if (obj instanceof RegExp) return obj.toString();
  if (
    obj instanceof String ||
    obj instanceof Number ||
    obj instanceof Boolean ||
    obj instanceof BigInt
  ) {
    return render(obj.valueOf(), ancestors, depth);
  }
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(obj)) {
    const v = render((obj as Record<string, unknown>)[key], ancestors, depth);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * How deeply `value` nests arrays and objects, counting up to `limit + 1` at
 * most. Iterative, so a hostile body nested 100,000 levels deep cannot
 * overflow the stack here.
 */
export function nestingDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, depth]);
  }
  return max;
}
