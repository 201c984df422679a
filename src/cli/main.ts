#!/usr/bin/env node
/**
 * The `rapidai-jobs` command: `serve`, `worker`, `jobs`, `queue` and `bench`. Exit codes:
 * 0 success, 1 failure, 2 a usage error (unknown command, bad flag).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isUsageError } from "./args.js";

/** The package root, from dist/src/cli/main.js: the same in a checkout and in node_modules. */
const PACKAGE_ROOT = new URL("../../../", import.meta.url);

/** The documents this help points to, as paths on this machine (the package ships `docs/`). */
const DOCS: readonly [path: string, about: string][] = [
  ["docs/service.md", "the HTTP service, the dashboard and these commands"],
  ["docs/api/README.md", "the JavaScript API reference"],
  ["README.md", "getting started"],
];

function documentation(): string {
  const lines = DOCS.map(([path, about]) => [fileURLToPath(new URL(path, PACKAGE_ROOT)), about])
    .filter(([file]) => existsSync(file!))
    .map(([file, about]) => `  ${file}\n      ${about}`);
  return lines.length === 0 ? "" : `\nDocumentation:\n${lines.join("\n")}\n`;
}

const help = () => `Usage: rapidai-jobs <command> [options]

Background jobs on a worker-thread pool, with in-memory and Redis queues.

Commands:
  serve     Run the HTTP job service, dashboard and metrics (default port 3000).
  worker    Run the jobs of a Redis queue: rapidai-jobs worker <task modules...>
  jobs      Operate jobs: list, show, retry, cancel, logs (--redis URL or --url URL).
  queue     Operate the queue: pause, resume, clean, counts (--redis URL or --url URL).
  bench     Run the throughput benchmarks.
  workers   List the processes running a queue's jobs (--redis URL, --cluster or --url URL).

Options:
  -h, --help      Show this help (rapidai-jobs <command> --help for a command's).
  -v, --version   Show the version.
${documentation()}`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import("./serve-command.js")).serveCommand,
  worker: async () => (await import("./worker-command.js")).workerCommand,
  jobs: async () => (await import("./ops-command.js")).opsCommand("jobs"),
  queue: async () => (await import("./ops-command.js")).opsCommand("queue"),
  bench: async () => (await import("./bench-command.js")).benchCommand,
  workers: async () => (await import("./workers-command.js")).workersCommand,
};

function version(): string {
  // dist/src/cli/main.js → the package root.
  const pkg = JSON.parse(readFileSync(new URL("package.json", PACKAGE_ROOT), "utf8"));
  return String(pkg.version);
}

async function run(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(help());
    return 2;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(help());
    return 0;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (load === undefined) {
    const what = first.startsWith("-") ? `unknown option ${first}` : `unknown command "${first}"`;
    process.stderr.write(
      `rapidai-jobs: ${what} (expected serve, worker, jobs, queue, workers or bench; see rapidai-jobs --help)\n`,
    );
    return 2;
  }
  const command = await load();
  return command(rest);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything was closed; if a stray handle still holds the loop, do not hang.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (error: unknown) => {
    if (isUsageError(error)) {
      process.stderr.write(`rapidai-jobs: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(
        `rapidai-jobs: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    }
    setTimeout(() => process.exit(), 3000).unref();
  },
);
