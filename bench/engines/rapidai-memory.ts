/**
 * Our InMemoryQueue through the public API: a `background()` task, one
 * `enqueue` per job, then `onIdle()`.
 */
import { getQueue } from "rapidai/background";
import { fib, noop } from "../tasks.js";
import type { Engine, EngineOptions } from "./engine.js";

export async function openRapidaiMemory(o: EngineOptions): Promise<Engine> {
  const queue = getQueue("memory", { threads: o.threads });
  await queue.start();
  const work = o.work;
  let failure: unknown;
  queue.on("failed", (e) => {
    failure ??= new Error(`job ${e.jobId} failed: ${e.error}`);
  });
  return {
    async run(n) {
      const all: Promise<string>[] = new Array(n);
      if (work.kind === "noop") for (let i = 0; i < n; i++) all[i] = noop.enqueue();
      else for (let i = 0; i < n; i++) all[i] = fib.enqueue(work.n);
      await Promise.all(all);
      await queue.onIdle();
      if (failure !== undefined) throw failure;
    },
    close: () => queue.close(),
  };
}
