/**
 * The same jobs run serially on the main thread: the baseline a pool's
 * speedup is measured against.
 */
import { fibonacci } from "../cpu.js";
import type { Engine, EngineOptions } from "./engine.js";

export async function openMainThread(o: EngineOptions): Promise<Engine> {
  const work = o.work;
  let sink = 0;
  return {
    async run(n) {
      for (let i = 0; i < n; i++) sink += work.kind === "fib" ? fibonacci(work.n) : 0;
      // Read the sum so the calls cannot be dropped as dead code.
      if (sink < 0) throw new Error("unreachable");
    },
    async close() {},
  };
}
