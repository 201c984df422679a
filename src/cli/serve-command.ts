import { isIP } from "node:net";
import {
  formatHelp,
  intValue,
  listValue,
  type OptionSpec,
  parseCommandArgs,
  stringValue,
  usageError,
} from "./args.js";
import { HELP_OPTION, prefixOption, redisOption, tokenOption } from "./common-options.js";
import { openServiceQueue } from "./serve-queue.js";

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    name: "port",
    short: "p",
    type: "string",
    env: "PORT",
    valueName: "n",
    defaultText: "3000",
    description: "Port to listen on; 0 picks a free one.",
  },
  {
    name: "host",
    type: "string",
    env: "HOST",
    valueName: "address",
    defaultText: "127.0.0.1",
    description: "Address to listen on. Beyond loopback, set a token.",
  },
  redisOption(
    "Use a Redis queue at this URL (redis:// or rediss://): the service only enqueues and reads; `rapidai-jobs worker` processes run the jobs. Without it, an in-memory queue runs jobs in this process.",
  ),
  prefixOption("Key prefix of the Redis queue (with --redis)."),
  tokenOption(
    "Bearer token every request must carry (Authorization: Bearer <token>; the page and /events also take ?token=). Prefer the environment variable: flags show in `ps`.",
  ),
  {
    name: "tasks",
    type: "string",
    multiple: true,
    env: "RAPIDAI_TASKS",
    valueName: "module",
    defaultText: "demo",
    description:
      "Task module to load (repeatable; the variable is comma-separated). Its tasks are the ones the service accepts. `demo` names the built-in demo tasks (fib, sleep, fail, primes, flaky).",
  },
  {
    name: "threads",
    type: "string",
    env: "RAPIDAI_THREADS",
    valueName: "n",
    defaultText: "available parallelism",
    description: "Worker threads of the in-memory queue's pool.",
  },
  {
    name: "concurrency-per-thread",
    type: "string",
    env: "RAPIDAI_CONCURRENCY_PER_THREAD",
    valueName: "n",
    defaultText: "1",
    description:
      "Jobs one thread of the in-memory queue runs at once. Raise it for jobs that mostly await I/O (HTTP calls, timers): with 1, each holds a whole thread while it waits.",
  },
  {
    name: "body-limit",
    type: "string",
    env: "RAPIDAI_BODY_LIMIT",
    valueName: "bytes",
    defaultText: "1048576",
    description: "Largest request body; larger ones get 413.",
  },
  {
    name: "shutdown-timeout",
    type: "string",
    env: "RAPIDAI_SHUTDOWN_TIMEOUT_MS",
    valueName: "ms",
    defaultText: "10000",
    description: "On SIGTERM or SIGINT, how long running jobs may finish before they are stopped.",
  },
  HELP_OPTION,
];

export const SERVE_HELP = formatHelp(
  "rapidai-jobs serve [options]",
  "Runs the HTTP job service: POST /jobs/:task, GET /jobs/:id, DELETE /jobs/:id, GET /jobs,\n" +
    "GET /api/stats, GET /events (server-sent events), GET /metrics (Prometheus) and the dashboard at /.",
  SERVE_OPTIONS,
);

/** What `serve` needs, read from flags and environment. */
export interface ServeConfig {
  port: number;
  host: string;
  redis: string | undefined;
  prefix: string | undefined;
  token: string | undefined;
  tasks: string[];
  threads: number | undefined;
  concurrencyPerThread: number | undefined;
  bodyLimit: number;
  shutdownTimeoutMs: number;
}

export function parseServeArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig | "help" {
  const parsed = parseCommandArgs(argv, SERVE_OPTIONS, { env });
  if (parsed.values.help === true) return "help";
  const config: ServeConfig = {
    port: intValue(parsed, "port", 3000, 0, 65535),
    host: stringValue(parsed, "host") ?? "127.0.0.1",
    redis: stringValue(parsed, "redis"),
    prefix: stringValue(parsed, "prefix"),
    token: stringValue(parsed, "token") || undefined,
    tasks: listValue(parsed, "tasks"),
    threads:
      parsed.values.threads === undefined ? undefined : intValue(parsed, "threads", 1, 1, 1024),
    concurrencyPerThread:
      parsed.values["concurrency-per-thread"] === undefined
        ? undefined
        : intValue(parsed, "concurrency-per-thread", 1, 1, 1000),
    bodyLimit: intValue(parsed, "body-limit", 1024 * 1024, 1, 1024 * 1024 * 1024),
    shutdownTimeoutMs: intValue(parsed, "shutdown-timeout", 10_000, 0, 86_400_000),
  };
  if (config.redis !== undefined && !/^rediss?:\/\//i.test(config.redis)) {
    throw usageError(
      `${parsed.source.redis} must be a redis:// or rediss:// URL (got ${JSON.stringify(config.redis)})`,
    );
  }
  if (config.prefix !== undefined && config.redis === undefined) {
    throw usageError(`${parsed.source.prefix} only applies to a Redis queue: add --redis <URL>`);
  }
  if (config.tasks.length === 0) config.tasks = ["demo"];
  return config;
}

/** True when `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h);
  return false;
}

function listenUrl(address: string, port: number): string {
  return `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}

const LOUD = "!".repeat(72);

/**
 * `rapidai-jobs serve`: loads the task modules, sets up the queue, starts
 * the HTTP service and runs until SIGTERM or SIGINT, then shuts down
 * gracefully. Resolves with the exit code.
 */
export async function serveCommand(argv: string[]): Promise<number> {
  const config = parseServeArgs(argv);
  if (config === "help") {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const { queue, tasks } = await openServiceQueue(config);
  if (tasks.length === 0) {
    await queue.close();
    throw new Error(
      `no task in ${config.tasks.join(", ")} runs on the service's queue: nothing could be enqueued`,
    );
  }

  const { createService } = await import("../service/create-service.js");
  const app = createService({ queue, tasks, token: config.token, bodyLimit: config.bodyLimit });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await queue.close();
    throw new Error(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const address = app.server.address();
  const bound =
    typeof address === "object" && address !== null
      ? address
      : { address: config.host, port: config.port };
  if (config.token === undefined && !isLoopback(config.host)) {
    console.error(
      [
        LOUD,
        `WARNING: rapidai-jobs listens on ${config.host}, beyond loopback, WITHOUT A TOKEN.`,
        "Anyone who can reach this port can enqueue, read and cancel jobs.",
        "Set RAPIDAI_TOKEN (or --token) to require a bearer token.",
        LOUD,
      ].join("\n"),
    );
  }
  console.log(
    `rapidai-jobs: ${queue.backend} queue, tasks: ${[...tasks].sort().join(", ")}${config.token ? ", token required" : ""}`,
  );
  console.log(`rapidai-jobs listening on ${listenUrl(bound.address, bound.port)}`);

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(`rapidai-jobs: ${signal} again, exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      console.log(`rapidai-jobs: ${signal} received, shutting down`);
      (async () => {
        // Stop accepting first, so no job is enqueued into a closing queue.
        await app.close();
        await queue.close({ timeoutMs: config.shutdownTimeoutMs });
      })().then(
        () => {
          console.log("rapidai-jobs: stopped");
          resolveExit(0);
        },
        (error) => {
          console.error("rapidai-jobs: shutdown failed:", error);
          resolveExit(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
