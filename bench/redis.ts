/**
 * A private redis-server for one benchmark case, on a free port, with no
 * persistence, so cases never share a server and a case's memory figures
 * start from an empty one.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Path of redis-server (env `REDIS_SERVER_BIN`, then PATH), or undefined. */
export function redisBinary(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const candidates = [
    process.env.REDIS_SERVER_BIN,
    ...dirs.map((d) => join(d, "redis-server")),
    "/usr/bin/redis-server",
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return undefined;
}

/** `redis-server --version`, or null when there is none. */
export function redisVersion(): string | null {
  const bin = redisBinary();
  if (bin === undefined) return null;
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return null;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  // A benchmark that crashed must not leave servers running.
  for (const child of live) child.kill("SIGKILL");
});

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Starts redis-server and resolves once it answers PING. */
export async function startRedis(): Promise<BenchRedis> {
  const bin = redisBinary();
  if (bin === undefined)
    throw new Error("redis-server not found (install it or set REDIS_SERVER_BIN)");
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "rapidai-bench-redis-"));
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
    args.push("--appendonly", "no", "--daemonize", "no");
    const child = spawn(bin, args, { stdio: "ignore" });
    live.add(child);
    child.once("exit", () => live.delete(child));
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null) {
      up = await answers(url);
      if (!up) await new Promise((r) => setTimeout(r, 25));
    }
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    if (up) return { url, port, stop };
    // The port may have been taken between probing and binding: try another.
    await stop();
  }
  throw new Error("redis-server did not start");
}

/** Host and port of a `redis://host:port` URL, in the form BullMQ and bee-queue take. */
export function redisEndpoint(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

/** `used_memory` from `INFO memory`, in bytes. */
export async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info("memory");
  const m = /used_memory:(\d+)/.exec(info);
  if (m === null) throw new Error("INFO memory has no used_memory");
  return Number(m[1]);
}

/** CPU seconds (user + system) the Redis server has used so far, from `INFO cpu`. */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info("cpu");
  const user = /used_cpu_user:([\d.]+)/.exec(info);
  const sys = /used_cpu_sys:([\d.]+)/.exec(info);
  if (user === null || sys === null) throw new Error("INFO cpu has no used_cpu_user/used_cpu_sys");
  return Number(user[1]) + Number(sys[1]);
}

/** Commands the Redis server has processed so far (`INFO stats` total_commands_processed). */
export async function redisCommands(client: Redis): Promise<number> {
  const m = /total_commands_processed:(\d+)/.exec(await client.info("stats"));
  if (m === null) throw new Error("INFO stats has no total_commands_processed");
  return Number(m[1]);
}
