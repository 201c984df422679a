/**
 * Runs `rapidai-jobs worker` (the real command line) as a child process
 * for the Redis tests, and waits until it reports that it is ready.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const REDIS_TASKS = fileURLToPath(new URL("../fixtures/redis-tasks.js", import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or signal name) once it ended. */
  readonly exited: Promise<number | string>;
  /** Resolves once its output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

export interface WorkerProcessOptions {
  url: string;
  prefix: string;
  threads?: number;
  leaseMs?: number;
  graceMs?: number;
  /** Task modules to load. @default the Redis test tasks */
  modules?: string[];
  /** Pass no --redis and --prefix: the task modules' own queues decide. */
  bare?: boolean;
  /** Run this script with these arguments instead of `rapidai-jobs worker`. */
  script?: { path: string; args: string[] };
  env?: Record<string, string>;
  /** Runs it through another command, e.g. on a test host (net-hosts.ts `command`). */
  wrap?: (file: string, args: string[]) => { file: string; args: string[] };
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/** Starts a worker process and resolves once it printed that it is ready. */
export async function startWorker(o: WorkerProcessOptions): Promise<WorkerProcess> {
  const args = [
    MAIN,
    "worker",
    ...(o.bare ? [] : ["--redis", o.url, "--prefix", o.prefix]),
    "--threads",
    String(o.threads ?? 1),
  ];
  if (o.leaseMs !== undefined) args.push("--lease", String(o.leaseMs));
  if (o.graceMs !== undefined) args.push("--grace", String(o.graceMs));
  args.push(...(o.modules ?? [REDIS_TASKS]));
  const argv = o.script === undefined ? args : [o.script.path, ...o.script.args];
  const run = o.wrap?.(process.execPath, argv) ?? { file: process.execPath, args: argv };
  const child = spawn(run.file, run.args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...o.env },
  });
  live.add(child);
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? "unknown");
      for (const l of listeners) l();
    });
  });
  const handle: WorkerProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) done();
          else if (child.exitCode !== null || child.signalCode !== null)
            done(new Error(`worker exited before ${pattern}:\n${out}`));
        };
        const timer = setTimeout(
          () => done(new Error(`worker did not print ${pattern} within ${timeoutMs} ms:\n${out}`)),
          timeoutMs,
        );
        const done = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
    kill(signal = "SIGKILL") {
      child.kill(signal);
    },
  };
  await handle.waitFor(/rapidai-jobs worker ready/);
  return handle;
}
