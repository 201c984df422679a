/**
 * `rapidai-jobs workers [--redis URL | --cluster host:port,… | --url URL]
 * [--prefix P] [--json]`: the processes running a queue's jobs now, read
 * from Redis directly or from a running service's `GET /workers`.
 */
import { RedisQueue } from "../background.js";
import { workerJson } from "../service/workers-routes.js";
import { formatHelp, type OptionSpec, parseCommandArgs, stringValue, usageError } from "./args.js";
import {
  HELP_OPTION,
  jsonOption,
  prefixOption,
  redisOption,
  serviceOptions,
} from "./common-options.js";

export const WORKERS_OPTIONS: readonly OptionSpec[] = [
  redisOption("Read the fleet of the Redis queue at this URL (redis:// or rediss://)."),
  {
    name: "cluster",
    type: "string",
    env: "RAPIDAI_REDIS_CLUSTER",
    valueName: "host:port,…",
    description: "Read it from a Redis Cluster through these seed nodes instead.",
  },
  prefixOption("Key prefix of the Redis queue."),
  ...serviceOptions("Ask a running `rapidai-jobs serve` at this URL instead."),
  jsonOption("Print the answer as JSON (GET /workers's shape)."),
  HELP_OPTION,
];

export const WORKERS_HELP = formatHelp(
  "rapidai-jobs workers [options]",
  "Lists the processes running the queue's jobs: host, pid, threads, jobs running, version,\n" +
    "start and last heartbeat. A process killed without a goodbye drops out within its TTL.",
  WORKERS_OPTIONS,
);

type Row = Record<string, unknown>;

function nodesOf(text: string): { host: string; port: number }[] {
  return text.split(",").map((part) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(part.trim());
    if (m === null)
      throw usageError(`--cluster takes host:port,host:port (got ${JSON.stringify(part)})`);
    return { host: m[1]!, port: Number(m[2]) };
  });
}

async function fromService(base: string, token: string | undefined): Promise<Row[]> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/+$/, "")}/workers`, { headers });
  } catch {
    throw new Error(`cannot reach the service at ${base}`);
  }
  const json = (await res.json().catch(() => undefined)) as
    | { workers?: Row[]; error?: string }
    | undefined;
  if (!res.ok || !Array.isArray(json?.workers)) {
    throw new Error(`the service answered ${res.status}: ${json?.error ?? "no worker list"}`);
  }
  return json.workers;
}

/** One line per process, aligned, then a total. */
export function formatWorkers(rows: Row[], now = Date.now()): string {
  if (rows.length === 0) return "no worker is running this queue's jobs\n";
  const head = ["HOST", "PID", "THREADS", "RUNNING", "VERSION", "STARTED", "HEARTBEAT"];
  const lines = rows.map((w) => [
    String(w.host),
    String(w.pid),
    String(w.threads),
    String(w.running),
    String(w.version),
    String(w.started_at),
    `${Math.max(0, Math.round((now - Date.parse(String(w.heartbeat_at))) / 1000))} s ago`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const threads = rows.reduce((n, w) => n + Number(w.threads), 0);
  const running = rows.reduce((n, w) => n + Number(w.running), 0);
  return `${[fmt(head), ...lines.map(fmt)].join("\n")}\n${rows.length} process(es), ${threads} threads, ${running} running\n`;
}

export async function workersCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseCommandArgs(argv, WORKERS_OPTIONS, { env, positionals: false });
  if (parsed.values.help === true) {
    process.stdout.write(WORKERS_HELP);
    return 0;
  }
  const url = stringValue(parsed, "url");
  const redis = stringValue(parsed, "redis");
  const cluster = stringValue(parsed, "cluster");
  if ([url, redis, cluster].filter((v) => v !== undefined).length > 1) {
    throw usageError("give one of --redis, --cluster or --url");
  }
  let rows: Row[];
  if (url !== undefined) rows = await fromService(url, stringValue(parsed, "token"));
  else {
    const prefix = stringValue(parsed, "prefix");
    const queue = new RedisQueue({
      ...(cluster === undefined
        ? { url: redis ?? "redis://localhost:6379" }
        : { cluster: nodesOf(cluster) }),
      ...(prefix === undefined ? {} : { prefix }),
      process: false,
      logger: { warn() {} },
    });
    try {
      rows = (await queue.listWorkers()).map(workerJson);
    } finally {
      await queue.close();
    }
  }
  process.stdout.write(
    parsed.values.json === true
      ? `${JSON.stringify({ workers: rows }, null, 2)}\n`
      : formatWorkers(rows),
  );
  return 0;
}
