/**
 * Our RedisQueue through the public API. With `processes = 0` the benchmark
 * process enqueues and also runs the jobs on its own pool; with
 * `processes > 0` it only enqueues, and that many worker processes (each
 * with `threads` threads) run the jobs. Jobs go in with `enqueueMany` in
 * chunks of 1,000, like BullMQ's `addBulk`; completion is `onIdle()`.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as api from "rapidai/background";
import { CaseSkipped } from "../skip.js";
import { fib, noop } from "../tasks.js";
import { benchQueueName, type Engine, type EngineOptions } from "./engine.js";

/** Jobs per bulk call, as for BullMQ's addBulk. */
const BULK = 1_000;

/** RedisQueue's bulk enqueue, looked up at run time so the harness builds without it. */
interface BulkEnqueue {
  enqueueMany(
    jobs: { jobId: string; task: { readonly taskName: string }; args: unknown[] }[],
  ): Promise<string[]>;
}

/** True once this build exports RedisQueue. */
export function redisQueueAvailable(): boolean {
  return typeof (api as Record<string, unknown>).RedisQueue === "function";
}

function requireRedisQueue(o: EngineOptions): string {
  if (!redisQueueAvailable())
    throw new CaseSkipped("RedisQueue is not exported by rapidai/background in this build");
  if (o.redisUrl === undefined) throw new Error("RedisQueue needs Redis");
  return o.redisUrl;
}

/** Starts a worker process and resolves once its queue runs. */
function startWorker(url: string, prefix: string, threads: number): Promise<ChildProcess> {
  const child = fork(
    new URL("../workers/redis-worker.js", import.meta.url),
    [url, prefix, String(threads)],
    {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) =>
      reject(new Error(`worker process exited early with code ${code}`)),
    );
    child.once("error", reject);
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.send("stop");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function openRapidaiRedis(o: EngineOptions, processes: number): Promise<Engine> {
  const url = requireRedisQueue(o);
  const prefix = `${benchQueueName("rapidai")}:`;
  const queue =
    processes === 0
      ? api.getQueue("redis", { url, prefix, threads: o.threads })
      : api.getQueue("redis", { url, prefix, process: false });
  const workers: ChildProcess[] = [];
  try {
    for (let i = 0; i < processes; i++) workers.push(await startWorker(url, prefix, o.threads));
    if (processes === 0) await queue.start();
  } catch (error) {
    await Promise.all(workers.map(stopWorker));
    await queue.close();
    throw error;
  }
  const work = o.work;
  // The bulk call where the build offers one (as BullMQ's addBulk is used for BullMQ).
  const bulk = (queue as unknown as Partial<BulkEnqueue>).enqueueMany?.bind(queue);
  let failure: unknown;
  queue.on("failed", (e) => {
    failure ??= new Error(`job ${e.jobId} failed: ${e.error}`);
  });
  return {
    async run(n) {
      if (bulk !== undefined) {
        const task = work.kind === "noop" ? noop : fib;
        const args = work.kind === "noop" ? [] : [work.n];
        const chunks: Promise<string[]>[] = [];
        for (let sent = 0; sent < n; sent += BULK) {
          const size = Math.min(BULK, n - sent);
          chunks.push(
            bulk(Array.from({ length: size }, () => ({ jobId: randomUUID(), task, args }))),
          );
        }
        await Promise.all(chunks);
      } else {
        const all: Promise<string>[] = new Array(n);
        if (work.kind === "noop") for (let i = 0; i < n; i++) all[i] = noop.enqueue();
        else for (let i = 0; i < n; i++) all[i] = fib.enqueue(work.n);
        await Promise.all(all);
      }
      await queue.onIdle();
      if (failure !== undefined) throw failure;
    },
    async close() {
      await Promise.all(workers.map(stopWorker));
      await queue.close();
    },
  };
}
