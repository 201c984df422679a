/** Opens an engine by the name a case spec carries. */
import { openBeeQueue } from "./bee-queue.js";
import { openBullmq } from "./bullmq.js";
import type { Engine, EngineOptions } from "./engine.js";
import { openMainThread } from "./main-thread.js";
import { openRapidaiMemory } from "./rapidai-memory.js";
import { openRapidaiRedis } from "./rapidai-redis.js";
import { openPiscina, openTinypool } from "./raw-pools.js";

export const ENGINES = {
  "rapidai-memory": openRapidaiMemory,
  "rapidai-redis": (o: EngineOptions) => openRapidaiRedis(o, 0),
  piscina: openPiscina,
  tinypool: openTinypool,
  bullmq: (o: EngineOptions) => openBullmq(o, "in-process"),
  "bullmq-threads": (o: EngineOptions) => openBullmq(o, "worker-threads"),
  "bee-queue": openBeeQueue,
  "main-thread": openMainThread,
} satisfies Record<string, (o: EngineOptions) => Promise<Engine>>;

export type EngineName = keyof typeof ENGINES;

export function openEngine(name: string, o: EngineOptions): Promise<Engine> {
  const open = ENGINES[name as EngineName];
  if (open === undefined) throw new Error(`unknown engine ${name}`);
  return open(o);
}
