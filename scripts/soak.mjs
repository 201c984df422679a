#!/usr/bin/env node
// Soak run (docs/RELIABILITY "soak"): many no-op and failing jobs through one
// queue, then a verdict on whether memory and Redis keys stayed flat after a
// warm-up. Not part of `npm test`; run it with `npm run soak`, or after a
// build with `node scripts/soak.mjs [options]`:
//   --jobs N        no-op jobs (default 1000000)
//   --failing N     failing jobs, spread among them (default jobs / 10)
//   --redis         through a RedisQueue on a private redis-server (else in memory)
//   --threads N     worker threads (default 2)
//   --retention N   finished jobs kept (retention.maxCount, default 20000)
//   --window N      most unfinished jobs at any time (default 10000)
// Flat means: heap after a full GC at the end within 20 % of the one after
// warm-up (the first fifth of the jobs, at least twice the retention), and
// with --redis, DBSIZE at the end at most retention + 1 000 (the few index keys),
// and during the run at most retention + window + 2 000.
// Exits 1 when something is not flat.
import { parseArgs } from "node:util";
import v8 from "node:v8";
import vm from "node:vm";
import { InMemoryQueue, RedisQueue } from "rapidai/background";
import "./soak-tasks.mjs";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000000" },
    failing: { type: "string" },
    redis: { type: "boolean", default: false },
    threads: { type: "string", default: "2" },
    retention: { type: "string", default: "20000" },
    window: { type: "string", default: "10000" },
  },
});
const JOBS = Number(values.jobs);
const FAILING = values.failing === undefined ? Math.floor(JOBS / 10) : Number(values.failing);
const THREADS = Number(values.threads);
const RETENTION = Number(values.retention);
const WINDOW = Number(values.window);
const TOTAL = JOBS + FAILING;
const BATCH = 500;
const KEY_MARGIN = 1000;
// During the run: the retention, the unfinished window, and what finished
// since the last retention pass of the worker (fewer than 500) or is being
// deleted by it (up to 500 per call).
const PEAK_MARGIN = KEY_MARGIN + 1000;
let peakKeys = 0;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** A private redis-server (the tests' own starter), with a client for DBSIZE. */
async function startSoakRedis() {
  const { startRedis } = await import("../dist/test/support/redis-server.js");
  const { Redis } = await import("ioredis");
  const server = await startRedis();
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  return {
    url: server.url,
    dbsize: () => client.dbsize(),
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

const redis = values.redis ? await startSoakRedis() : undefined;
const queue = redis
  ? new RedisQueue({
      url: redis.url,
      prefix: "soak:",
      threads: THREADS,
      checkIntervalMs: 500,
      retention: { maxCount: RETENTION },
    })
  : new InMemoryQueue({ threads: THREADS, retention: { maxCount: RETENTION } });

async function sample(label) {
  gc();
  await sleep(50);
  gc();
  const m = process.memoryUsage();
  const s = {
    label,
    heap: m.heapUsed,
    rss: m.rss,
    resources: process.getActiveResourcesInfo().length,
    listeners: queue.eventNames().reduce((n, e) => n + queue.listenerCount(e), 0),
    keys: redis ? await redis.dbsize() : undefined,
  };
  console.log(
    `${label.padEnd(14)} heap ${mb(s.heap).padStart(9)}  rss ${mb(s.rss).padStart(9)}  ` +
      `handles ${s.resources}  listeners ${s.listeners}${s.keys === undefined ? "" : `  redis keys ${s.keys}`}`,
  );
  return s;
}

async function unfinished() {
  const c = await queue.countJobs();
  return c.pending + c.running;
}

console.log(
  `soak: ${JOBS} no-op + ${FAILING} failing jobs, ${redis ? "RedisQueue" : "InMemoryQueue"}, ` +
    `${THREADS} threads, retention ${RETENTION}, window ${WINDOW}`,
);
const t0 = performance.now();
const warmUpAt = Math.max(Math.floor(TOTAL / 5), 2 * RETENTION);
let warm;
let enqueued = 0;
let failingLeft = FAILING;
let nextReport = Math.ceil(TOTAL / 10);
try {
  await sample("start");
  while (enqueued < TOTAL) {
    const batch = [];
    for (let i = 0; i < BATCH && enqueued < TOTAL; i++, enqueued++) {
      // Failing jobs spread evenly among the no-ops.
      const fails = failingLeft > 0 && Math.random() < failingLeft / (TOTAL - enqueued);
      if (fails) failingLeft--;
      batch.push({
        jobId: `j${enqueued}`,
        task: fails ? "soak.fail" : "soak.noop",
        args: fails ? [enqueued] : [],
      });
    }
    await queue.enqueueMany(batch);
    while ((await unfinished()) > WINDOW) await sleep(2);
    // Redis keys are also watched during the run, after the warm-up: the
    // retention must keep pace with the jobs, not only catch up at the end.
    if (redis && warm !== undefined && enqueued % (BATCH * 20) === 0) {
      peakKeys = Math.max(peakKeys, await redis.dbsize());
    }
    if (warm === undefined && enqueued >= warmUpAt) {
      await queue.onIdle();
      if (redis) await sleep(1500); // a few retention passes
      warm = await sample("after warm-up");
    }
    if (enqueued >= nextReport) {
      const rate = Math.round(enqueued / ((performance.now() - t0) / 1000));
      console.log(`  ${enqueued} / ${TOTAL} enqueued, ${rate} jobs/s`);
      nextReport += Math.ceil(TOTAL / 10);
    }
  }
  await queue.onIdle();
  const seconds = (performance.now() - t0) / 1000;
  if (redis) await sleep(1500);
  const end = await sample("end");
  const counts = await queue.countJobs();
  console.log(
    `done in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)} jobs/s); kept ${JSON.stringify(counts)}`,
  );

  const base = warm ?? end;
  const heapRatio = end.heap / base.heap;
  const rssRatio = end.rss / base.rss;
  const verdicts = [
    [
      `heap ${mb(base.heap)} -> ${mb(end.heap)} (${((heapRatio - 1) * 100).toFixed(1)} %), limit +20 %`,
      heapRatio <= 1.2,
    ],
    [
      `rss ${mb(base.rss)} -> ${mb(end.rss)} (${((rssRatio - 1) * 100).toFixed(1)} %), reported only`,
      true,
    ],
    [`listeners ${base.listeners} -> ${end.listeners}`, end.listeners <= base.listeners],
    [
      `kept finished jobs ${counts.completed + counts.failed} <= retention ${RETENTION}`,
      counts.completed + counts.failed <= RETENTION,
    ],
  ];
  if (redis) {
    verdicts.push([
      `redis keys ${base.keys} -> ${end.keys}, limit retention + ${KEY_MARGIN} = ${RETENTION + KEY_MARGIN}`,
      end.keys <= RETENTION + KEY_MARGIN,
    ]);
    const peakLimit = RETENTION + WINDOW + PEAK_MARGIN;
    verdicts.push([
      `redis keys at most ${peakKeys} during the run, limit retention + window + ${PEAK_MARGIN} = ${peakLimit}`,
      peakKeys <= peakLimit,
    ]);
  }
  let flat = true;
  for (const [text, ok] of verdicts) {
    console.log(`${ok ? "flat " : "GREW "} ${text}`);
    flat &&= ok;
  }
  console.log(flat ? "soak: FLAT" : "soak: NOT FLAT");
  process.exitCode = flat ? 0 : 1;
} finally {
  await queue.close();
  await redis?.stop();
}
