/**
 * Opens an engine by the name a case spec carries. Each adapter is imported
 * only when its case runs, so a case process loads no peer library it does
 * not measure.
 */
import type { Engine, EngineOptions } from "./engine.js";

const ENGINES: Record<string, (o: EngineOptions) => Promise<Engine>> = {
  "rapidai-memory": async (o) => (await import("./rapidai-memory.js")).openRapidaiMemory(o),
  "rapidai-redis": async (o) => (await import("./rapidai-redis.js")).openRapidaiRedis(o, 0),
  piscina: async (o) => (await import("./raw-pools.js")).openPiscina(o),
  tinypool: async (o) => (await import("./raw-pools.js")).openTinypool(o),
  bullmq: async (o) => (await import("./bullmq.js")).openBullmq(o, "in-process"),
  "bullmq-threads": async (o) => (await import("./bullmq.js")).openBullmq(o, "worker-threads"),
  "bee-queue": async (o) => (await import("./bee-queue.js")).openBeeQueue(o),
  "main-thread": async (o) => (await import("./main-thread.js")).openMainThread(o),
};

export function openEngine(name: string, o: EngineOptions): Promise<Engine> {
  const open = ENGINES[name];
  if (open === undefined) throw new Error(`unknown engine ${name}`);
  return open(o);
}
