import type { JobQueue } from "../job-queue.js";
import { importTaskModule } from "./task-modules.js";

/** What the service runs over: its queue and the task names it accepts. */
export interface ServiceQueue {
  queue: JobQueue;
  tasks: string[];
}

export interface ServeQueueConfig {
  redis: string | undefined;
  prefix: string | undefined;
  threads: number | undefined;
  /** Jobs per thread of the in-memory queue (`--concurrency-per-thread`). */
  concurrencyPerThread?: number | undefined;
  tasks: string[];
}

/**
 * Loads the task modules, then picks the queue the service enqueues to.
 * Modules come first: importing them does no I/O, and a module may set up
 * the default queue itself, as the seed's example does
 * (`getQueue("redis", { url })` at top level).
 *
 * - No `--redis`: the modules' default queue if they made one, else an
 *   in-memory one; the service accepts the tasks bound to it.
 * - `--redis URL` and no default queue yet: the default queue becomes an
 *   enqueue-only Redis queue (`process: false`), which jobs of tasks
 *   without a `queue` option go to.
 * - `--redis URL` and the modules made a Redis default queue: the service
 *   uses an enqueue-only twin of it at that URL (their prefix unless
 *   `--prefix` says otherwise), and accepts the tasks bound to a Redis queue
 *   with that prefix. Their own queue is never started here, so this
 *   process runs no job.
 */
export async function openServiceQueue(config: ServeQueueConfig): Promise<ServiceQueue> {
  // The package entry, not get-queue.js alone: importing it registers the backends.
  const background = await import("../background.js");
  const { defaultQueueIfExists } = await import("../get-queue.js");
  const { allTasks } = await import("../registry.js");
  for (const spec of config.tasks) await importTaskModule(spec);
  const existing = defaultQueueIfExists();

  if (config.redis === undefined) {
    if (existing !== undefined && config.threads !== undefined) {
      console.warn(
        "rapidai-jobs: --threads is ignored: the task modules built the queue themselves",
      );
    }
    if (existing !== undefined && config.concurrencyPerThread !== undefined) {
      console.warn(
        "rapidai-jobs: --concurrency-per-thread is ignored: the task modules built the queue themselves",
      );
    }
    const queue =
      existing ??
      background.getQueue("memory", {
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(config.concurrencyPerThread === undefined
          ? {}
          : { concurrencyPerThread: config.concurrencyPerThread }),
      });
    return { queue, tasks: queue.taskNames() };
  }

  if (config.threads !== undefined) {
    console.warn(
      "rapidai-jobs: --threads is ignored with --redis: jobs run in `rapidai-jobs worker` processes",
    );
  }
  if (config.concurrencyPerThread !== undefined) {
    console.warn(
      "rapidai-jobs: --concurrency-per-thread is ignored with --redis: jobs run in `rapidai-jobs worker` processes (set concurrencyPerThread on their queue)",
    );
  }
  if (existing === undefined) {
    const queue = background.getQueue("redis", {
      url: config.redis,
      ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
      process: false,
    });
    return { queue, tasks: queue.taskNames() };
  }
  const { RedisQueue } = background;
  if (!(existing instanceof RedisQueue)) {
    throw new Error(
      `the task modules set up a ${existing.backend} default queue, so --redis cannot apply to their tasks`,
    );
  }
  const { redisQueueOptions } = await import("../redis/redis-queue.js");
  const queue = new RedisQueue({
    ...redisQueueOptions(existing),
    url: config.redis,
    prefix: config.prefix ?? existing.prefix,
    process: false,
  });
  const tasks = allTasks()
    .filter((def) => {
      const bound = def.queue ?? existing;
      return bound instanceof RedisQueue && bound.prefix === queue.prefix;
    })
    .map((def) => def.name);
  return { queue, tasks };
}
