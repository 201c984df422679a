/**
 * One timer for many deadlines: delayed jobs, retry backoffs, attempt
 * timeouts and cancel grace periods all wait in one min-heap, with a single
 * `setTimeout` armed for the earliest. A job costs a heap entry, never a timer.
 */
export class TimerEntry {
  /** Position in the heap; -1 once fired or removed. */
  index = -1;
  constructor(
    readonly at: number,
    readonly fire: () => void,
  ) {}
}

export class TimerQueue {
  #heap: TimerEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedAt = Number.POSITIVE_INFINITY;
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Number of waiting entries. */
  get size(): number {
    return this.#heap.length;
  }

  /** Calls `fire` at time `at` (ms, in the clock given to the constructor). */
  add(at: number, fire: () => void): TimerEntry {
    const entry = new TimerEntry(at, fire);
    entry.index = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.index);
    if (at < this.#armedAt) this.#arm();
    return entry;
  }

  /** Forgets an entry; safe to call twice or after it fired. */
  remove(entry: TimerEntry | undefined): void {
    if (entry === undefined || entry.index < 0) return;
    const i = entry.index;
    const last = this.#heap.pop()!;
    entry.index = -1;
    if (last !== entry) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    if (this.#heap.length === 0) this.#disarm();
  }

  /** Forgets every entry and stops the timer. */
  clear(): void {
    for (const e of this.#heap) e.index = -1;
    this.#heap = [];
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined) {
      this.#disarm();
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedAt = first.at;
    // setTimeout caps at 2^31-1 ms; a later deadline simply re-arms on wake.
    const delay = Math.min(Math.max(0, first.at - this.#now()), 2_147_483_647);
    this.#timer = setTimeout(() => this.#run(), delay);
  }

  #run(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
      const entry = this.#heap[0]!;
      this.remove(entry);
      entry.fire();
    }
    if (this.#heap.length > 0 && this.#timer === undefined) this.#arm();
  }

  #up(i: number): void {
    const h = this.#heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.at <= e.at) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.at < h[l]!.at ? r : l;
      const child = h[c]!;
      if (child.at >= e.at) break;
      h[i] = child;
      child.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}
