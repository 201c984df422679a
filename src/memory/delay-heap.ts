/**
 * Jobs waiting for a time (a delay or a retry backoff), earliest first. A
 * job costs two array slots here: the job and its time, kept in parallel
 * arrays so times stay unboxed doubles. Nothing is removed from the middle:
 * a job cancelled while it waits is skipped when its time comes.
 */
export class DelayHeap<T> {
  #items: T[] = [];
  #times: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Time of the earliest item, or Infinity when empty. */
  get nextAt(): number {
    return this.#times.length === 0 ? Number.POSITIVE_INFINITY : this.#times[0]!;
  }

  push(item: T, at: number): void {
    const items = this.#items;
    const times = this.#times;
    let i = items.length;
    items.push(item);
    times.push(at);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (times[p]! <= at) break;
      items[i] = items[p]!;
      times[i] = times[p]!;
      i = p;
    }
    items[i] = item;
    times[i] = at;
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const items = this.#items;
    const times = this.#times;
    if (items.length === 0) return undefined;
    const top = items[0];
    const lastItem = items.pop()!;
    const lastAt = times.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r]! < times[l]! ? r : l;
        if (times[c]! >= lastAt) break;
        items[i] = items[c]!;
        times[i] = times[c]!;
        i = c;
      }
      items[i] = lastItem;
      times[i] = lastAt;
    }
    return top;
  }
}
