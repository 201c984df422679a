import type { CleanOptions } from "../job-queue.js";
import { isTerminal, JOB_STATUSES, type JobStatus } from "../job-status.js";
import {
  formatHelp,
  intValue,
  type OptionSpec,
  type ParsedArgs,
  parseCommandArgs,
  stringValue,
  usageError,
} from "./args.js";
import {
  HELP_OPTION,
  jsonOption,
  prefixOption,
  redisOption,
  serviceOptions,
} from "./common-options.js";
import { type Json, type OpsClient, OpsRefusal } from "./ops-client.js";
import { formatCounts, formatJob, formatJobList } from "./ops-output.js";

/** How the command reaches the queue: Redis directly, or a running service. */
const CONNECTION_OPTIONS: readonly OptionSpec[] = [
  redisOption("Operate the Redis queue at this URL (redis:// or rediss://) directly."),
  prefixOption("Key prefix of the Redis queue (with --redis)."),
  ...serviceOptions("Operate through a running `rapidai-jobs serve` at this URL instead."),
  jsonOption("Print the answer as JSON (the service's shapes)."),
  HELP_OPTION,
];

const FINISHED = JOB_STATUSES.filter((s): s is CleanOptions["status"] => isTerminal(s));

/** One subcommand: its extra options, positional job id, and what it does. */
interface Subcommand {
  summary: string;
  takesId?: boolean;
  options?: readonly OptionSpec[];
  /** Reads the flags (usage errors surface before any connection) and returns the action. */
  prepare(parsed: ParsedArgs, id: string): (client: OpsClient) => Promise<Json>;
  /** The human form of the answer. */
  print(answer: Json): string;
}

const statusOption = (description: string, required = false): OptionSpec => ({
  name: "status",
  type: "string",
  valueName: "status",
  description: `${description}${required ? " (required)" : ""}`,
});

function parseStatus<S extends JobStatus>(
  parsed: ParsedArgs,
  allowed: readonly S[],
): S | undefined {
  const raw = stringValue(parsed, "status");
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw usageError(`--status must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
  }
  return raw as S;
}

const JOBS: Record<string, Subcommand> = {
  list: {
    summary: "List jobs, newest first.",
    options: [
      statusOption(`Only jobs of this status: ${JOB_STATUSES.join(", ")}.`),
      { name: "task", type: "string", valueName: "name", description: "Only jobs of this task." },
      {
        name: "limit",
        type: "string",
        valueName: "n",
        defaultText: "20",
        description: "At most n jobs (up to 500).",
      },
      {
        name: "offset",
        type: "string",
        valueName: "n",
        defaultText: "0",
        description: "Skip the n newest.",
      },
    ],
    prepare: (parsed) => {
      const status = parseStatus(parsed, JOB_STATUSES);
      const task = stringValue(parsed, "task");
      const options = {
        ...(status === undefined ? {} : { status }),
        ...(task === undefined ? {} : { task }),
        limit: intValue(parsed, "limit", 20, 0, 500),
        offset: intValue(parsed, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
      };
      return (client) => client.list(options);
    },
    print: formatJobList,
  },
  show: {
    summary: "Show one job: state, attempts, arguments, result or error, dependencies.",
    takesId: true,
    prepare: (_parsed, id) => (client) => client.show(id),
    print: formatJob,
  },
  retry: {
    summary: "Move a failed or cancelled job back to pending.",
    takesId: true,
    prepare: (_parsed, id) => (client) => client.retry(id),
    print: (a) => `job ${String(a.job_id)}: pending again`,
  },
  cancel: {
    summary: "Cancel a pending or running job.",
    takesId: true,
    prepare: (_parsed, id) => (client) => client.cancel(id),
    print: (a) => `job ${String(a.job_id)}: cancelled`,
  },
  logs: {
    summary: "Print the lines the job wrote with currentJob().log(), oldest first.",
    takesId: true,
    prepare: (_parsed, id) => (client) => client.logs(id),
    print: (a) => (a.logs as string[]).join("\n"),
  },
};

const QUEUE: Record<string, Subcommand> = {
  pause: {
    summary: "Stop starting jobs (running ones finish; enqueue still works).",
    prepare: () => (client) => client.pause(),
    print: () => "queue paused",
  },
  resume: {
    summary: "Start jobs again after a pause.",
    prepare: () => (client) => client.resume(),
    print: () => "queue resumed",
  },
  counts: {
    summary: "Show whether the queue is paused and how many jobs are in each state.",
    prepare: () => (client) => client.counts(),
    print: formatCounts,
  },
  clean: {
    summary: "Delete finished jobs of one status.",
    options: [
      statusOption(`The status to delete: ${FINISHED.join(", ")}.`, true),
      {
        name: "older-than",
        type: "string",
        valueName: "ms",
        description: "Only jobs that finished at least this long ago.",
      },
      { name: "limit", type: "string", valueName: "n", description: "Delete at most n jobs." },
    ],
    prepare: (parsed) => {
      const status = parseStatus(parsed, FINISHED);
      if (status === undefined)
        throw usageError("queue clean needs --status <completed|failed|cancelled>");
      const options = {
        status,
        ...(parsed.values["older-than"] === undefined
          ? {}
          : { olderThanMs: intValue(parsed, "older-than", 0, 0, Number.MAX_SAFE_INTEGER) }),
        ...(parsed.values.limit === undefined
          ? {}
          : { limit: intValue(parsed, "limit", 1, 1, 1_000_000) }),
      };
      return (client) => client.clean(options);
    },
    print: (a) => `removed ${String(a.removed)} jobs`,
  },
};

const GROUPS = { jobs: JOBS, queue: QUEUE } as const;

function groupHelp(group: keyof typeof GROUPS): string {
  const subs = GROUPS[group];
  const width = Math.max(...Object.keys(subs).map((s) => s.length));
  return [
    `Usage: rapidai-jobs ${group} <${Object.keys(subs).join("|")}> [options]`,
    "",
    ...Object.entries(subs).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`),
    "",
    `Give --redis <URL> (Redis directly) or --url <URL> (a running service). See rapidai-jobs ${group} <command> --help.`,
    "",
  ].join("\n");
}

/** Opens the client the flags ask for: exactly one of --redis and --url. */
async function openClient(parsed: ParsedArgs): Promise<OpsClient> {
  const redis = stringValue(parsed, "redis");
  const url = stringValue(parsed, "url");
  const fromFlag = (name: string) => parsed.source[name] === `--${name}`;
  // A flag wins over the other target's environment variable.
  const useRedis =
    redis !== undefined && (url === undefined || (fromFlag("redis") && !fromFlag("url")));
  const useUrl =
    url !== undefined && (redis === undefined || (fromFlag("url") && !fromFlag("redis")));
  if (!useRedis && !useUrl) {
    if (redis !== undefined && url !== undefined) {
      throw usageError(`give only one of ${parsed.source.redis} and ${parsed.source.url}`);
    }
    throw usageError("give --redis <URL> (Redis directly) or --url <URL> (a running service)");
  }
  if (useRedis) {
    if (!/^rediss?:\/\//i.test(redis!)) {
      throw usageError(
        `${parsed.source.redis} must be a redis:// or rediss:// URL (got ${JSON.stringify(redis)})`,
      );
    }
    const { RedisQueue } = await import("../background.js");
    const prefix = stringValue(parsed, "prefix");
    const { queueClient } = await import("./ops-client.js");
    return queueClient(
      new RedisQueue({ url: redis!, ...(prefix === undefined ? {} : { prefix }), process: false }),
    );
  }
  if (!/^https?:\/\//i.test(url!)) {
    throw usageError(
      `${parsed.source.url} must be an http:// or https:// URL (got ${JSON.stringify(url)})`,
    );
  }
  if (fromFlag("prefix")) throw usageError("--prefix only applies with --redis");
  const { httpClient } = await import("./ops-client.js");
  return httpClient(url!, stringValue(parsed, "token") || undefined);
}

/** `rapidai-jobs jobs …` and `rapidai-jobs queue …`. Resolves with the exit code. */
export function opsCommand(group: keyof typeof GROUPS): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      (name === undefined ? process.stderr : process.stdout).write(groupHelp(group));
      return name === undefined ? 2 : 0;
    }
    const sub = Object.hasOwn(GROUPS[group], name) ? GROUPS[group][name] : undefined;
    if (sub === undefined) {
      throw usageError(
        `unknown ${group} command "${name}" (expected ${Object.keys(GROUPS[group]).join(", ")})`,
      );
    }
    const specs = [...(sub.options ?? []), ...CONNECTION_OPTIONS];
    const usage = `rapidai-jobs ${group} ${name}${sub.takesId ? " <job id>" : ""} [options]`;
    const parsed = parseCommandArgs(rest, specs, { positionals: sub.takesId === true });
    if (parsed.values.help === true) {
      process.stdout.write(formatHelp(usage, sub.summary, specs));
      return 0;
    }
    const [id, ...extra] = parsed.positionals;
    if (sub.takesId && id === undefined)
      throw usageError(`${group} ${name} needs a job id: ${usage}`);
    if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}": ${usage}`);
    const action = sub.prepare(parsed, id ?? "");
    const client = await openClient(parsed);
    try {
      const answer = await action(client);
      const text =
        parsed.values.json === true ? JSON.stringify(answer, null, 2) : sub.print(answer);
      if (text !== "") process.stdout.write(`${text}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof OpsRefusal)) throw error;
      if (parsed.values.json === true) {
        process.stdout.write(`${JSON.stringify({ error: error.message }, null, 2)}\n`);
      }
      process.stderr.write(`rapidai-jobs: ${id ? `job ${id}: ` : ""}${error.message}\n`);
      return 1;
    } finally {
      await client.close();
    }
  };
}
