/**
 * `rapidai-jobs worker [--redis URL] [--threads N] [--prefix P] <task modules...>`:
 * a dedicated process that runs the jobs of the Redis queues its task
 * modules bind their tasks to. Exits 0 after a graceful stop on SIGTERM or
 * SIGINT: it stops claiming, lets running jobs finish within the grace
 * period, and hands the others back to the queue at once.
 */
// The package entry, not get-queue.js: importing it registers the backends.
import {
  ErrorCode,
  getQueue,
  type JobQueue,
  RedisQueue,
  type RedisQueueOptions,
} from "../background.js";
import { defaultQueueIfExists } from "../get-queue.js";
import { isPermanent } from "../redis/redis-errors.js";
import { redisQueueOptions } from "../redis/redis-queue.js";
import { allTasks } from "../registry.js";
import {
  formatHelp,
  intValue,
  type OptionSpec,
  parseCommandArgs,
  stringValue,
  usageError,
} from "./args.js";
import { HELP_OPTION, prefixOption, redisOption } from "./common-options.js";
import { importTaskModule } from "./task-modules.js";

export const WORKER_OPTIONS: readonly OptionSpec[] = [
  redisOption(
    "Redis to take jobs from (redis:// or rediss://, user:password@ for ACL users). Queues built with `cluster` or `sentinels` keep their own nodes.",
    "the URL of the modules' queues, else redis://localhost:6379",
  ),
  prefixOption(
    "Key prefix of the queue, for tasks not bound to a queue of their own. It must match " +
      "the prefix the app enqueues under (its RedisQueue's `prefix`): with another one this " +
      "worker waits on an empty queue and the app's jobs stay pending.",
  ),
  {
    name: "threads",
    type: "string",
    env: "RAPIDAI_THREADS",
    valueName: "n",
    defaultText: "available parallelism",
    description: "Worker threads that run jobs.",
  },
  {
    name: "lease",
    type: "string",
    env: "RAPIDAI_LEASE_MS",
    valueName: "ms",
    defaultText: "30000",
    description: "Lease of a claimed job; a job whose worker died runs again after it.",
  },
  {
    name: "grace",
    type: "string",
    env: "RAPIDAI_SHUTDOWN_TIMEOUT_MS",
    valueName: "ms",
    defaultText: "5000",
    description:
      "On SIGTERM or SIGINT, how long running jobs may finish; the rest go back to the queue at once.",
  },
  HELP_OPTION,
];

export const WORKER_HELP = formatHelp(
  "rapidai-jobs worker [options] <task modules...>",
  "Runs the jobs of a Redis queue. Each task module (a path, a file: URL, or `demo` for the\n" +
    "built-in demo tasks) defines tasks with background(); tasks run by name, so every worker\n" +
    "of a queue must load every task of that queue.",
  WORKER_OPTIONS,
);

interface WorkerConfig {
  redis: string | undefined;
  prefix: string | undefined;
  threads: number | undefined;
  leaseMs: number | undefined;
  graceMs: number;
  modules: string[];
}

function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv): WorkerConfig | "help" {
  const parsed = parseCommandArgs(argv, WORKER_OPTIONS, { env, positionals: true });
  if (parsed.values.help === true) return "help";
  const redis = stringValue(parsed, "redis");
  if (redis !== undefined && !/^rediss?:\/\//i.test(redis)) {
    throw usageError(
      `${parsed.source.redis} must be a redis:// or rediss:// URL (got ${JSON.stringify(redis)})`,
    );
  }
  if (parsed.positionals.length === 0) {
    throw usageError("name at least one task module: rapidai-jobs worker <task modules...>");
  }
  return {
    redis,
    prefix: stringValue(parsed, "prefix"),
    threads:
      parsed.values.threads === undefined ? undefined : intValue(parsed, "threads", 1, 1, 1024),
    leaseMs:
      parsed.values.lease === undefined ? undefined : intValue(parsed, "lease", 0, 100, 86_400_000),
    graceMs: intValue(parsed, "grace", 5_000, 0, 86_400_000),
    modules: parsed.positionals,
  };
}

function isRedisQueue(q: JobQueue | undefined): q is RedisQueue {
  return q instanceof RedisQueue;
}

/**
 * The queues to run: the Redis queue each task is bound to (the default
 * queue for tasks without a `queue` option, made here as a Redis queue if
 * the modules did not make one). A queue the modules built is run as is
 * when it processes and no flag overrides it; otherwise a processing twin
 * with the overrides is built. One queue per URL and prefix.
 */
function queuesToRun(config: WorkerConfig): { queues: RedisQueue[]; skipped: string[] } {
  const overrides: RedisQueueOptions = {};
  if (config.threads !== undefined) overrides.threads = config.threads;
  if (config.leaseMs !== undefined) overrides.leaseMs = config.leaseMs;
  const byTarget = new Map<string, RedisQueue>();
  const skipped: string[] = [];
  const defs = allTasks();
  if (defaultQueueIfExists() === undefined && defs.some((d) => d.queue === undefined)) {
    getQueue("redis", {
      url: config.redis ?? "redis://localhost:6379",
      ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
      ...overrides,
    });
  }
  const fallback = defaultQueueIfExists();
  for (const def of defs) {
    const bound = def.queue ?? fallback;
    if (!isRedisQueue(bound)) {
      skipped.push(def.name);
      continue;
    }
    const built = redisQueueOptions(bound);
    // A queue on a cluster or behind Sentinels names its own nodes: `--redis`
    // (one address) would send it to a node that does not serve its slot.
    const ownNodes = built.cluster !== undefined || built.sentinels !== undefined;
    const redis = ownNodes ? undefined : config.redis;
    const url = redis ?? built.url ?? "redis://localhost:6379";
    const key = `${url} ${bound.prefix}`;
    if (byTarget.has(key)) continue;
    const asIs =
      bound.processes &&
      !bound.closed &&
      (redis === undefined || redis === built.url) &&
      (config.threads === undefined || config.threads === built.threads) &&
      (config.leaseMs === undefined || config.leaseMs === built.leaseMs);
    byTarget.set(
      key,
      asIs ? bound : new RedisQueue({ ...built, url, process: true, ...overrides }),
    );
  }
  return { queues: [...byTarget.values()], skipped };
}

/** Runs the worker until SIGTERM or SIGINT; resolves with the exit code. */
export async function workerCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const config = parseWorkerArgs(argv, env);
  if (config === "help") {
    process.stdout.write(WORKER_HELP);
    return 0;
  }
  for (const spec of config.modules) await importTaskModule(spec);
  const { queues, skipped } = queuesToRun(config);
  if (skipped.length > 0) {
    console.warn(
      `rapidai-jobs worker: not running ${skipped.join(", ")}: bound to an in-memory queue`,
    );
  }
  if (queues.length === 0) {
    throw new Error(
      `no task in ${config.modules.join(", ")} is bound to a Redis queue: nothing to run`,
    );
  }
  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  const stopped = new Promise<number>((resolveExit) => {
    let stopping = false;
    stop = (signal) => {
      if (stopping) {
        console.warn(
          `rapidai-jobs worker: ${signal} again: exiting now; unfinished jobs run again after their lease`,
        );
        resolveExit(1);
        process.exit(1);
      }
      stopping = true;
      console.log(
        `rapidai-jobs worker: ${signal}: finishing running jobs (up to ${config.graceMs} ms), handing back the rest`,
      );
      Promise.all(queues.map((q) => q.close({ timeoutMs: config.graceMs }))).then(
        () => {
          process.off("SIGTERM", stop!);
          process.off("SIGINT", stop!);
          console.log("rapidai-jobs worker: stopped");
          resolveExit(0);
        },
        (error) => {
          console.error(`rapidai-jobs worker: stopping failed: ${(error as Error).message}`);
          resolveExit(1);
        },
      );
    };
  });
  // Signals stop the worker gracefully from here on, even while it still waits for Redis.
  process.on("SIGTERM", stop!);
  process.on("SIGINT", stop!);
  for (const q of queues) await q.start();
  // Report ready once Redis answers; while it does not, the queues keep trying.
  for (const q of queues) {
    for (let said = false; !q.closed; ) {
      try {
        await q.countJobs();
        // One script too: a refused ACL or a cluster slot shows here, not at the first job.
        await q.listJobs(undefined, { limit: 1 });
        break;
      } catch (error) {
        if (q.closed) break;
        // Refused credentials or a wrong deployment do not heal by waiting: say what to change and stop.
        if ((error as { code?: string }).code === ErrorCode.BACKEND_AUTH || isPermanent(error)) {
          console.error(`rapidai-jobs worker: ${(error as Error).message}`);
          process.off("SIGTERM", stop!);
          process.off("SIGINT", stop!);
          await Promise.all(queues.map((other) => other.close({ timeoutMs: 0 })));
          return isPermanent(error) ? 2 : 1;
        }
        if (!said)
          console.warn(
            `rapidai-jobs worker: waiting for Redis at ${q.url}: ${(error as Error).message}`,
          );
        said = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  const names = allTasks()
    .map((d) => d.name)
    .sort();
  for (const q of queues) {
    console.log(
      `rapidai-jobs worker ${process.pid}: running ${names.join(", ")} from ${q.url} prefix ${q.prefix} on ${q.threads} threads`,
    );
  }
  console.log("rapidai-jobs worker ready");
  return stopped;
}
