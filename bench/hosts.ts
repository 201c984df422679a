/**
 * Redis CPU per job with worker processes on separate hosts: Redis on one
 * network namespace, the producer on another, and 1, 2, 3… worker hosts
 * (test/support/net-hosts.ts; root and `ip` needed). For each count, a
 * fresh Redis, `--jobs` no-op jobs enqueued while the queue is paused, then
 * drained by `rapidai-jobs worker` processes of `--threads` threads each.
 * Reports Redis's own CPU (INFO used_cpu_user + used_cpu_sys) per job for
 * the enqueue and for the drain, the drain's throughput, the commands Redis
 * ran per job (INFO commandstats) and the worker processes' CPU per job.
 * Run by hand, not in `npm test`:
 *
 *   npm run build && node dist/bench/hosts.js --jobs 20000 --hosts 1,2,3 --rounds 2
 *
 * `--one-host` runs the same processes all on the Redis host (their
 * traffic then stays on that host), as a control for the network's share.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createNetHosts, netHostsMissing } from "../test/support/net-hosts.js";
import { startAgent, startHostRedis } from "../test/support/net-processes.js";
import { startWorker } from "../test/support/worker-process.js";

const TASKS = fileURLToPath(new URL("./tasks.js", import.meta.url));
const BULK = 1_000;

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "20000" },
    hosts: { type: "string", default: "1,2,3" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "1" },
    // Control: every process on the Redis host (loopback traffic), same counts.
    "one-host": { type: "boolean", default: false },
  },
});
const jobs = Number(values.jobs);
const counts = values.hosts.split(",").map(Number);
const threads = Number(values.threads);
const rounds = Number(values.rounds);

/** CPU seconds Redis used so far (all its threads). */
function redisCpu(info: string): number {
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1]);
  return field("used_cpu_user") + field("used_cpu_sys");
}

/** Commands Redis ran so far, by name (INFO commandstats), scripts' inner commands included. */
function commandCalls(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** CPU seconds of a process so far (user + system, all its threads), from /proc. */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 (1-based), in clock ticks (USER_HZ, 100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Run {
  hosts: number;
  enqueueCpuUs: number;
  drainCpuUs: number;
  drainJobsPerS: number;
  commandsPerJob: number;
  scriptCallsPerJob: number;
  workerCpuUs: number;
  /** The machine's 1-minute load average at the end (others share it). */
  load: number;
  /** Commands per job over enqueue and drain, by name, the most frequent first. */
  perCommand: Record<string, number>;
}

async function measure(workerHosts: number): Promise<Run> {
  const names = Array.from({ length: workerHosts }, (_, i) => `worker-${i + 1}`);
  const oneHost = values["one-host"];
  const net = createNetHosts(oneHost ? ["redis-host"] : ["redis-host", "producer", ...names]);
  const on = (name: string) => net.host(oneHost ? "redis-host" : name);
  try {
    const redis = await startHostRedis(net, net.host("redis-host"));
    const prefix = `hb:${randomUUID()}:`;
    const producer = await startAgent(net, on("producer"), redis.url, prefix, TASKS);
    await producer.call("pause");
    const workers = await Promise.all(
      names.map((name) =>
        startWorker({
          url: redis.url,
          prefix,
          threads,
          modules: [TASKS],
          wrap: (file, args) => net.command(on(name), file, args),
        }),
      ),
    );
    const info = async () => {
      const text =
        (await producer.call<string>("redisInfo", "cpu")) +
        (await producer.call<string>("redisInfo", "commandstats"));
      return { cpu: redisCpu(text), calls: commandCalls(text) };
    };
    const before = await info();
    // One batch at a time: all at once can outlast the client's command
    // timeout on a busy machine.
    for (let sent = 0; sent < jobs; sent += BULK) {
      const size = Math.min(BULK, jobs - sent);
      const batch = Array.from({ length: size }, () => ({
        jobId: randomUUID(),
        task: "bench.noop",
        args: [],
      }));
      await producer.call("enqueueMany", batch);
    }
    const enqueued = await info();
    const workerCpu0 = workers.reduce((s, w) => s + processCpu(w.pid), 0);
    const t0 = performance.now();
    await producer.call("resume");
    // Polled, not onIdle(): that listens to every job's final event, and
    // events are built only while someone listens; this measures the engine.
    for (;;) {
      const c = await producer.call<Record<string, number>>("countJobs");
      if (c.pending === 0 && c.running === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - t0) / 1000;
    const drained = await info();
    const workerCpu = workers.reduce((s, w) => s + processCpu(w.pid), 0) - workerCpu0;
    const counts = await producer.call<Record<string, number>>("countJobs");
    if (counts.completed !== jobs)
      throw new Error(`expected ${jobs} completed: ${JSON.stringify(counts)}`);
    const sum = (m: Map<string, number>, only?: (name: string) => boolean) =>
      [...m].filter(([n]) => !only || only(n)).reduce((s, [, v]) => s + v, 0);
    const isScript = (n: string) => n === "evalsha" || n === "eval" || n === "fcall";
    const run: Run = {
      hosts: workerHosts,
      enqueueCpuUs: ((enqueued.cpu - before.cpu) / jobs) * 1e6,
      drainCpuUs: ((drained.cpu - enqueued.cpu) / jobs) * 1e6,
      drainJobsPerS: jobs / seconds,
      commandsPerJob: (sum(drained.calls) - sum(before.calls)) / jobs,
      scriptCallsPerJob: (sum(drained.calls, isScript) - sum(before.calls, isScript)) / jobs,
      workerCpuUs: (workerCpu / jobs) * 1e6,
      load: Number(loadavg()[0]!.toFixed(2)),
      perCommand: Object.fromEntries(
        [...drained.calls]
          .map(([n, v]) => [n, (v - (before.calls.get(n) ?? 0)) / jobs] as const)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([n, v]) => [n, Number(v.toFixed(3))]),
      ),
    };
    await producer.stop();
    for (const w of workers) w.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    await redis.stop();
    return run;
  } finally {
    net.teardown();
  }
}

const missing = netHostsMissing();
if (missing) {
  console.error(missing);
  process.exit(2);
}
const oneHostLabel = values["one-host"] ? "process(es) on the Redis host" : "host(s)";
const runs: Run[] = [];
for (let r = 0; r < rounds; r++) {
  // Alternate the order, so a change in the machine's load is not all on one count.
  for (const n of r % 2 === 0 ? counts : [...counts].reverse()) {
    const run = await measure(n);
    runs.push(run);
    console.log(
      `${n} worker ${oneHostLabel}: Redis ${run.enqueueCpuUs.toFixed(1)} µs/job enqueue + ${run.drainCpuUs.toFixed(1)} µs/job drain, ` +
        `drain ${Math.round(run.drainJobsPerS)} jobs/s, ${run.commandsPerJob.toFixed(2)} commands/job ` +
        `(${run.scriptCallsPerJob.toFixed(3)} script calls), workers ${run.workerCpuUs.toFixed(0)} µs CPU/job, load ${run.load}`,
    );
  }
}
console.log(JSON.stringify({ jobs, threads, oneHost: values["one-host"], runs }));
