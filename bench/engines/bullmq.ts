/**
 * BullMQ, configured as its documentation suggests for each mode: a worker
 * in the process with concurrency 50, or a sandboxed processor file on
 * worker threads (`useWorkerThreads`) with concurrency 8. Jobs are added with
 * `addBulk`; completion is counted from the worker's `completed` events.
 */
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { redisEndpoint } from "../redis.js";
import { benchQueueName, Countdown, type Engine, type EngineOptions } from "./engine.js";

export type BullMode = "in-process" | "worker-threads";

/** Jobs per `addBulk` call: one MULTI each, sent without waiting for the previous. */
const BULK = 1_000;

export async function openBullmq(o: EngineOptions, mode: BullMode): Promise<Engine> {
  if (o.redisUrl === undefined) throw new Error("BullMQ needs Redis");
  if (o.work.kind !== "noop") throw new Error("the BullMQ cases run no-op jobs only");
  const connection = { ...redisEndpoint(o.redisUrl), maxRetriesPerRequest: null };
  const name = benchQueueName(mode === "in-process" ? "bullmq" : "bullmq-threads");
  const queue = new Queue(name, { connection });
  const worker =
    mode === "in-process"
      ? new Worker(name, async () => null, { connection, concurrency: 50 })
      : new Worker(name, fileURLToPath(new URL("../workers/bullmq-noop.js", import.meta.url)), {
          connection,
          concurrency: 8,
          useWorkerThreads: true,
        });
  const countdown = new Countdown();
  worker.on("completed", () => countdown.tick());
  worker.on("failed", (job, error) =>
    countdown.fail(new Error(`BullMQ job ${job?.id} failed: ${error.message}`)),
  );
  worker.on("error", (error) => countdown.fail(error));
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  return {
    async run(n) {
      const done = countdown.expect(n);
      const adds: Promise<unknown>[] = [];
      for (let sent = 0; sent < n; sent += BULK) {
        const size = Math.min(BULK, n - sent);
        adds.push(queue.addBulk(Array.from({ length: size }, () => ({ name: "noop", data: {} }))));
      }
      await Promise.all(adds);
      await done;
    },
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
