import { ErrorCode, jobError } from "./errors.js";

/**
 * `move(x)`: hands a buffer's memory to the job (or, inside a job, back to the
 * caller) instead of copying it. It returns `x` itself, marked: the type a
 * task's `enqueue` expects is kept, and the mark is found wherever `x` sits
 * in the arguments or the result.
 *
 * Marks live on the ArrayBuffer, so every view of a marked buffer moves with
 * it. A counter of marks not yet consumed lets an enqueue or a result with no
 * mark skip the walk that finds them: the common case costs nothing.
 */
const marked = new WeakSet<ArrayBuffer>();
let outstanding = 0;

/**
 * Transfers `value`'s memory instead of copying it, as `postMessage` with a
 * transfer list does: `enqueue(move(bytes))` on the in-memory queue detaches
 * the caller's `bytes` and the job's thread receives the same memory;
 * `return move(output)` inside a job moves the result back. An `ArrayBuffer`,
 * any typed array or a `DataView` (its whole buffer moves) may be marked,
 * anywhere inside the arguments or the result.
 *
 * A retry sees the same argument bytes: the thread hands them back when the
 * attempt ends (a job that writes into them hands back what it wrote). With
 * Redis the bytes are encoded as without `move`. A `SharedArrayBuffer` (or a
 * view of one) needs no `move`: on the in-memory queue it is shared, never
 * copied, and `move` leaves it as it is.
 *
 * @param value the buffer or view to move
 * @returns `value` itself
 */
export function move<T extends ArrayBufferLike | ArrayBufferView>(value: T): T {
  const buffer = bufferOf(value);
  if (buffer === undefined) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "move() takes an ArrayBuffer, a typed array or a DataView",
    );
  }
  if (buffer instanceof ArrayBuffer && !marked.has(buffer)) {
    marked.add(buffer);
    outstanding++;
  }
  return value;
}

function bufferOf(value: unknown): ArrayBufferLike | undefined {
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) return value.buffer;
  return undefined;
}

/** True while some mark has not been consumed: only then is a walk worth it. */
export function movesPending(): boolean {
  return outstanding > 0;
}

/** Forgets marks that can no longer be consumed (a thread with no job running). */
export function forgetMoves(): void {
  outstanding = 0;
}

/** Where a walk found buffers to move and SharedArrayBuffers to share. */
export interface FoundBuffers {
  /** Marked ArrayBuffers, each once, in the order found. */
  moved: ArrayBuffer[];
  /** SharedArrayBuffers held directly (not through a view), each once. */
  shared: SharedArrayBuffer[];
}

/**
 * Finds the marked buffers inside `root` (through arrays, plain objects, Map
 * and Set, as structured clone does). With `sharedToo`, also lists bare
 * SharedArrayBuffers. The marks stay until {@link unmark}: an enqueue that
 * fails later (an argument that cannot be cloned) leaves them for the next.
 */
export function findBuffers(root: unknown, sharedToo: boolean): FoundBuffers {
  const found: FoundBuffers = { moved: [], shared: [] };
  // The common shapes, `[move(bytes), 2]` or a bare `move(bytes)`, need no
  // walk: only a list of flat values, or one value, gets here.
  const flat = Array.isArray(root) ? root : [root];
  if (flat.every(isFlat)) {
    for (const value of flat) visitFlat(value, found, sharedToo);
    return found;
  }
  const seen = new Set<unknown>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== "object" || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof ArrayBuffer) {
      take(value, found);
    } else if (ArrayBuffer.isView(value)) {
      const buffer = value.buffer;
      if (buffer instanceof ArrayBuffer) take(buffer, found);
    } else if (value instanceof SharedArrayBuffer) {
      if (sharedToo && !found.shared.includes(value)) found.shared.push(value);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    } else if (value instanceof Map) {
      for (const [k, v] of value) stack.push(k, v);
    } else if (value instanceof Set) {
      for (const v of value) stack.push(v);
    } else if (!(value instanceof Date || value instanceof RegExp || value instanceof Error)) {
      for (const key of Object.keys(value)) stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return found;
}

/** A value that holds no other value a walk would look into. */
function isFlat(value: unknown): boolean {
  return (
    value === null ||
    typeof value !== "object" ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof SharedArrayBuffer
  );
}

function visitFlat(value: unknown, found: FoundBuffers, sharedToo: boolean): void {
  if (value instanceof ArrayBuffer) take(value, found);
  else if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) take(value.buffer, found);
  } else if (sharedToo && value instanceof SharedArrayBuffer && !found.shared.includes(value)) {
    found.shared.push(value);
  }
}

function take(buffer: ArrayBuffer, found: FoundBuffers): void {
  if (marked.has(buffer) && !found.moved.includes(buffer)) found.moved.push(buffer);
}

/** Consumes the marks of buffers that moved. */
export function unmark(buffers: readonly ArrayBuffer[]): void {
  for (const buffer of buffers) {
    if (marked.delete(buffer)) outstanding = Math.max(0, outstanding - 1);
  }
}
