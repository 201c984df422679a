/**
 * The raw pools, with nothing on top: `piscina.run()` and `tinypool.run()`.
 * They are the floor a job engine on worker threads is measured against.
 */
import { Piscina } from "piscina";
import Tinypool from "tinypool";
import type { Engine, EngineOptions } from "./engine.js";

function workerFile(o: EngineOptions): { url: URL; arg: number | null } {
  const name = o.work.kind === "noop" ? "pool-noop.js" : "pool-fib.js";
  return {
    url: new URL(`../workers/${name}`, import.meta.url),
    arg: o.work.kind === "fib" ? o.work.n : null,
  };
}

export async function openPiscina(o: EngineOptions): Promise<Engine> {
  const { url, arg } = workerFile(o);
  const pool = new Piscina({ filename: url.href, minThreads: o.threads, maxThreads: o.threads });
  return {
    async run(n) {
      const all: Promise<unknown>[] = new Array(n);
      for (let i = 0; i < n; i++) all[i] = pool.run(arg);
      await Promise.all(all);
    },
    close: () => pool.destroy(),
  };
}

export async function openTinypool(o: EngineOptions): Promise<Engine> {
  const { url, arg } = workerFile(o);
  const pool = new Tinypool({ filename: url.href, minThreads: o.threads, maxThreads: o.threads });
  return {
    async run(n) {
      const all: Promise<unknown>[] = new Array(n);
      for (let i = 0; i < n; i++) all[i] = pool.run(arg);
      await Promise.all(all);
    },
    close: () => pool.destroy(),
  };
}
