import { addExtension } from "msgpackr";

/**
 * What msgpackr's structured-clone mode loses and structured clone keeps, so
 * that a payload reads the same from Redis as from the in-memory queue
 * (`v8.serialize`): an Error's own stack (msgpackr keeps name, message and
 * cause, and the error read back gets a stack of the decoder's frames) and
 * `-0` (msgpackr writes it as the integer 0). Payloads written before these
 * extensions existed still decode: msgpackr's own Error type stays readable.
 */

/** Extension type codes (msgpack leaves 0-127 to applications; msgpackr uses letters). */
const ERROR_TYPE = 0x01;
const NEGATIVE_ZERO_TYPE = 0x02;

/** The standard error classes structured clone keeps, by name. */
const ERROR_CLASSES: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

type PackedError = [
  name: string,
  message: string,
  stack: unknown,
  cause: unknown,
  hasCause: boolean,
];

addExtension({
  Class: Error,
  type: ERROR_TYPE,
  write(error: Error): PackedError {
    return [error.name, error.message, error.stack, error.cause, "cause" in error];
  },
  read([name, message, stack, cause, hasCause]: PackedError): Error {
    const error = hasCause ? new Error(message, { cause }) : new Error(message);
    const standard = ERROR_CLASSES[name];
    if (standard !== undefined) Object.setPrototypeOf(error, standard.prototype);
    else error.name = name;
    if (typeof stack === "string") error.stack = stack;
    else delete error.stack;
    return error;
  },
});

/** Stands for a `-0` while a payload is packed. */
class NegativeZero {}
const NEGATIVE_ZERO = new NegativeZero();

addExtension({
  Class: NegativeZero,
  type: NEGATIVE_ZERO_TYPE,
  write: () => 0,
  read: () => -0,
});

/** Values msgpackr writes as bytes or by an extension of its own: nothing inside to look at. */
function opaque(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Error
  );
}

/** Children of a container, as msgpackr visits them. */
function children(value: object): Iterable<unknown> {
  if (value instanceof Map) return [...value.keys(), ...value.values()];
  if (value instanceof Set) return value;
  return Object.values(value);
}

/** Whether a `-0` is anywhere in the value (the usual answer, no, costs one read-only walk). */
function holdsNegativeZero(value: unknown, seen: Set<object>): boolean {
  if (typeof value === "number") return Object.is(value, -0);
  if (value === null || typeof value !== "object" || opaque(value) || seen.has(value)) return false;
  seen.add(value);
  for (const child of children(value)) if (holdsNegativeZero(child, seen)) return true;
  return false;
}

/** A copy with each `-0` replaced by its marker; shared and circular references stay so. */
function marked(value: unknown, copies: Map<object, unknown>): unknown {
  if (Object.is(value, -0)) return NEGATIVE_ZERO;
  if (value === null || typeof value !== "object" || opaque(value)) return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (value instanceof Map) {
    const copy = new Map();
    copies.set(value, copy);
    for (const [k, v] of value) copy.set(marked(k, copies), marked(v, copies));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set();
    copies.set(value, copy);
    for (const v of value) copy.add(marked(v, copies));
    return copy;
  }
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  copies.set(value, copy);
  for (const [k, v] of Object.entries(value))
    (copy as Record<string, unknown>)[k] = marked(v, copies);
  return copy;
}

/** The value to hand to msgpackr: itself, or a copy that keeps its `-0`s. */
export function withNegativeZeros(value: unknown): unknown {
  return holdsNegativeZero(value, new Set()) ? marked(value, new Map()) : value;
}
