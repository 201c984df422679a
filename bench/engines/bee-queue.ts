/**
 * bee-queue with its processor in the process, concurrency 50 (as for
 * BullMQ in-process). Jobs are saved with `saveAll`, its bulk call;
 * completion is counted from the local `succeeded` events.
 */
import BeeQueue from "bee-queue";
import { redisEndpoint } from "../redis.js";
import { benchQueueName, Countdown, type Engine, type EngineOptions } from "./engine.js";

const BULK = 1_000;

export async function openBeeQueue(o: EngineOptions): Promise<Engine> {
  if (o.redisUrl === undefined) throw new Error("bee-queue needs Redis");
  if (o.work.kind !== "noop") throw new Error("the bee-queue cases run no-op jobs only");
  const queue = new BeeQueue(benchQueueName("bee"), { redis: redisEndpoint(o.redisUrl) as never });
  const countdown = new Countdown();
  queue.on("succeeded", () => countdown.tick());
  queue.on("failed", (job, error) =>
    countdown.fail(new Error(`bee-queue job ${job.id} failed: ${error.message}`)),
  );
  queue.on("error", (error) => countdown.fail(error));
  queue.process(50, async () => null);
  await queue.ready();
  return {
    async run(n) {
      const done = countdown.expect(n);
      const saves: Promise<unknown>[] = [];
      for (let sent = 0; sent < n; sent += BULK) {
        const size = Math.min(BULK, n - sent);
        saves.push(queue.saveAll(Array.from({ length: size }, () => queue.createJob({}))));
      }
      const errors = await Promise.all(saves);
      for (const failed of errors as Map<unknown, Error>[]) {
        for (const error of failed.values()) throw error;
      }
      await done;
    },
    async close() {
      await queue.close();
    },
  };
}
