/**
 * The pool's load balancer: a task goes to the least busy thread that may
 * take it, never to one that is ending (terminating, destroyed while
 * Piscina still lists it, retiring), and a thread holds more than it runs
 * only for prefetched tasks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { balancer, QUEUE_OPTIONS } from "../../src/executor/balancer.js";

interface FakeThread {
  id: number;
  currentUsage: number;
  terminating?: boolean;
  destroyed?: boolean;
}

type Balance = ReturnType<typeof balancer>;

function pick(balance: Balance, threads: FakeThread[], prefetch = false): number | undefined {
  const task = prefetch ? { [QUEUE_OPTIONS]: { prefetch: true } } : {};
  const chosen = balance(
    task as never,
    threads.map((t) => ({ terminating: false, destroyed: false, ...t })) as never,
  ) as FakeThread | null;
  return chosen?.id;
}

describe("the pool's load balancer", () => {
  const none = new Int32Array(4);

  it("gives a task to the least busy thread, and to none that is full", () => {
    const balance = balancer(1, none, new Set());
    assert.equal(
      pick(balance, [
        { id: 1, currentUsage: 1 },
        { id: 2, currentUsage: 0 },
      ]),
      2,
    );
    assert.equal(
      pick(balance, [
        { id: 1, currentUsage: 1 },
        { id: 2, currentUsage: 1 },
      ]),
      undefined,
    );
  });

  it("lets a thread hold more than it runs only for a prefetched task", () => {
    const balance = balancer(1, none, new Set());
    assert.equal(pick(balance, [{ id: 1, currentUsage: 1 }], true), 1);
    assert.equal(pick(balance, [{ id: 1, currentUsage: 5 }], true), undefined);
  });

  it("passes over a thread that is ending: terminating, destroyed but still listed, or retiring", () => {
    const table = new Int32Array([0, 3, 0, 0]);
    const balance = balancer(1, table, new Set([4]));
    const ending = [
      { id: 1, currentUsage: 0, terminating: true },
      { id: 2, currentUsage: 0, destroyed: true },
      { id: 3, currentUsage: 0 },
      { id: 4, currentUsage: 0 },
    ];
    assert.equal(pick(balance, ending), undefined);
    assert.equal(pick(balance, [...ending, { id: 5, currentUsage: 0 }]), 5);
  });
});
