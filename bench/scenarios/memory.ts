/**
 * Scenario 5: memory per pending job. In memory: heap and RSS growth of a
 * process holding N pending no-argument jobs, between two forced GCs. In
 * Redis: growth of `used_memory` per stored pending job, for our queue and
 * the peers.
 */
import { setImmediate as turn } from "node:timers/promises";
import { Redis } from "ioredis";
import { getQueue } from "rapidai/background";
import { benchQueueName } from "../engines/engine.js";
import { redisQueueAvailable } from "../engines/rapidai-redis.js";
import { fmtBytes, fmtInt, statusOf } from "../format.js";
import { redisEndpoint, usedMemory } from "../redis.js";
import { CaseSkipped } from "../skip.js";
import { hold, noop } from "../tasks.js";
import type { CaseSpec } from "../types.js";
import type { RunContext, Scenario } from "./scenario.js";

/** Long enough that no delayed job becomes ready while the case runs. */
const HOUR_MS = 3_600_000;
/** Enqueues in flight at once: keeps the enqueue promises themselves out of the measurement. */
const CHUNK = 10_000;
const REDIS_CHUNK = 1_000;

async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("the memory case must run with --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await turn();
  }
}

async function inMemory(spec: CaseSpec, ctx: RunContext) {
  const count = Number(spec.params.jobs);
  const mode = String(spec.params.mode);
  // One thread is enough: the figure is per job, and a held thread keeps the rest pending.
  const queue = getQueue("memory", { threads: 1 });
  try {
    await queue.start();
    for (let i = 0; i < 20; i++) await noop.waitFor(await noop.enqueue());
    if (mode === "ready") {
      const started = new Promise<void>((resolve) => queue.once("started", () => resolve()));
      await hold.enqueue(HOUR_MS);
      await started;
    }
    await settle();
    const before = process.memoryUsage();
    for (let sent = 0; sent < count; sent += CHUNK) {
      const size = Math.min(CHUNK, count - sent);
      const chunk: Promise<string>[] = new Array(size);
      if (mode === "ready") for (let i = 0; i < size; i++) chunk[i] = noop.enqueue();
      else for (let i = 0; i < size; i++) chunk[i] = noop.enqueueWith({ delayMs: HOUR_MS });
      await Promise.all(chunk);
      ctx.progress(sent + size, count, "jobs enqueued");
    }
    await settle();
    const after = process.memoryUsage();
    const pending = (await queue.countJobs()).pending;
    if (pending < count) throw new Error(`only ${pending} of ${count} jobs are pending`);
    return {
      figures: {
        heapBytesPerJob: (after.heapUsed - before.heapUsed) / count,
        rssBytesPerJob: (after.rss - before.rss) / count,
        externalBytesPerJob: (after.external - before.external) / count,
        heapUsedBefore: before.heapUsed,
        heapUsedAfter: after.heapUsed,
        pending,
      },
    };
  } finally {
    // The held thread would otherwise keep close() waiting for an hour.
    await queue.close({ timeoutMs: 0 });
  }
}

/** Stores `count` pending jobs with `enqueue(size)` and reports used_memory growth per job. */
async function inRedis(
  url: string,
  count: number,
  ctx: RunContext,
  enqueue: (size: number) => Promise<unknown>,
) {
  const client = new Redis(url);
  try {
    // Warm-up jobs load the scripts and create the queue's fixed keys before the first reading.
    await enqueue(10);
    const before = await usedMemory(client);
    for (let sent = 0; sent < count; sent += REDIS_CHUNK) {
      const size = Math.min(REDIS_CHUNK, count - sent);
      await enqueue(size);
      ctx.progress(sent + size, count, "jobs stored");
    }
    const after = await usedMemory(client);
    return {
      figures: {
        redisBytesPerJob: (after - before) / count,
        usedMemoryBefore: before,
        usedMemoryAfter: after,
        keys: await client.dbsize(),
      },
    };
  } finally {
    client.disconnect();
  }
}

async function redisCase(spec: CaseSpec, ctx: RunContext) {
  const url = ctx.redisUrl;
  if (url === undefined) throw new Error("this case needs Redis");
  const count = Number(spec.params.jobs);
  if (spec.engine === "rapidai-redis") {
    if (!redisQueueAvailable())
      throw new CaseSkipped("RedisQueue is not exported by rapidai/background in this build");
    // Enqueue-only: nothing runs the jobs, so they all stay pending.
    const queue = getQueue("redis", { url, prefix: `${benchQueueName("mem")}:`, process: false });
    try {
      return await inRedis(url, count, ctx, async (size) => {
        await Promise.all(Array.from({ length: size }, () => noop.enqueue()));
      });
    } finally {
      await queue.close();
    }
  }
  if (spec.engine === "bullmq") {
    const { Queue: BullQueue } = await import("bullmq");
    const queue = new BullQueue(benchQueueName("bullmq-mem"), { connection: redisEndpoint(url) });
    try {
      return await inRedis(url, count, ctx, (size) =>
        queue.addBulk(Array.from({ length: size }, () => ({ name: "noop", data: {} }))),
      );
    } finally {
      await queue.close();
    }
  }
  const { default: BeeQueue } = await import("bee-queue");
  const queue = new BeeQueue(benchQueueName("bee-mem"), {
    redis: redisEndpoint(url) as never,
    isWorker: false,
    getEvents: false,
  });
  try {
    await queue.ready();
    return await inRedis(url, count, ctx, (size) =>
      queue.saveAll(Array.from({ length: size }, () => queue.createJob({}))),
    );
  } finally {
    await queue.close();
  }
}

export const memory: Scenario = {
  id: "memory",
  title: "Memory per pending job",
  method:
    "In memory (a child process run with --expose-gc): N no-argument jobs are enqueued and left pending, " +
    "either queued behind a pool whose only thread is held by a long job (`ready`) or with a one-hour " +
    "`delayMs` (`delayed`). Bytes per job = growth of heapUsed (and of RSS) between forced GCs before and " +
    "after, divided by N; ids are the default random UUIDs. In Redis: growth of `INFO memory` used_memory " +
    "per stored pending job, with nothing consuming the queue, after 10 warm-up jobs.",

  plan({ profile }) {
    const specs: CaseSpec[] = [];
    for (const jobs of profile.memory.counts) {
      for (const mode of ["ready", "delayed"]) {
        specs.push({
          scenario: "memory",
          id: `rapidai-memory-${mode}-${jobs}`,
          label: `rapidai InMemoryQueue, ${mode === "ready" ? "behind a busy pool" : "delayed 1 h"}`,
          engine: "rapidai-memory",
          redis: false,
          execArgv: ["--expose-gc"],
          params: { jobs, mode, store: "heap" },
        });
      }
    }
    const peers = [
      { engine: "rapidai-redis", label: "rapidai RedisQueue" },
      { engine: "bullmq", label: "BullMQ" },
      { engine: "bee-queue", label: "bee-queue" },
    ];
    for (const p of peers) {
      specs.push({
        scenario: "memory",
        id: `${p.engine}-redis`,
        label: `${p.label} (Redis used_memory)`,
        engine: p.engine,
        redis: true,
        params: { jobs: profile.memory.redisJobs, store: "redis" },
      });
    }
    return specs;
  },

  run(spec, ctx) {
    return spec.params.store === "heap" ? inMemory(spec, ctx) : redisCase(spec, ctx);
  },

  table(results) {
    return {
      headers: ["where", "pending jobs", "bytes/job", "RSS bytes/job"],
      rows: results.map((r) => [
        r.label,
        fmtInt(Number(r.params.jobs)),
        statusOf(r) ?? fmtBytes(r.figures.heapBytesPerJob ?? r.figures.redisBytesPerJob),
        fmtBytes(r.figures.rssBytesPerJob),
      ]),
      footnotes: [
        "bytes/job: V8 heapUsed growth for in-memory jobs; Redis used_memory growth for Redis queues.",
      ],
    };
  },
};
