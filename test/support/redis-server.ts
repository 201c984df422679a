/**
 * Starts a private `redis-server` for a test, on a free port with its own
 * temporary data directory, and stops it afterwards. Tests never use a Redis
 * they did not start: a shared server would make them depend on each other.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, type TestContext } from "node:test";
import { Redis } from "ioredis";
import { requirement } from "./requirement.js";

export interface StartRedisOptions {
  /** Turn on AOF persistence (`appendfsync always`), so `restart()` keeps every write. @default false */
  appendonly?: boolean;
  /** Extra command-line arguments for redis-server, e.g. `["--maxmemory-policy", "allkeys-lru"]`. */
  args?: string[];
  /** Port to listen on. @default a free port */
  port?: number;
  /**
   * A configuration file, passed first (before the command-line options,
   * which override it). Redis rewrites it on `CONFIG REWRITE`, as Sentinel
   * does when it reconfigures a node.
   */
  config?: string;
  /** Run as a Sentinel (`--sentinel`; `config` is then required and must be writable). @default false */
  sentinel?: boolean;
}

export interface RedisHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server's data directory (kept across `restart()`, removed by `stop()`). */
  readonly dir: string;
  /** The running server's pid, or undefined while it is down. */
  readonly pid: number | undefined;
  /** Graceful shutdown (SIGTERM, AOF flushed), then remove the data directory. Idempotent. */
  stop(): Promise<void>;
  /** Send a signal to the server. SIGKILL and SIGTERM wait until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port with the same data directory (stops it first if it runs). */
  restart(options?: { hard?: boolean }): Promise<void>;
}

const redisRequirement = requirement({
  envVar: "REDIS_SERVER_BIN",
  names: ["redis-server"],
  last: ["/usr/bin/redis-server", "/usr/local/bin/redis-server"],
  message: "redis-server not found (install it or set REDIS_SERVER_BIN): Redis tests are SKIPPED",
});

/** Path of the redis-server binary (env `REDIS_SERVER_BIN`, then PATH), or undefined. */
export const redisBinary = redisRequirement.binary;
const missingRedis = redisRequirement.missing;

/**
 * For one test: skips it (one loud line per process) when redis-server is
 * missing, or fails it when env CI is set. Returns true when Redis can run.
 */
export function requireRedis(t: TestContext): boolean {
  const reason = missingRedis();
  if (reason) {
    t.skip(reason);
    return false;
  }
  return true;
}

/** `describe` that skips the whole suite (or fails under CI) when redis-server is missing. */
export const describeWithRedis = redisRequirement.describe;

/** A suite that registers through the API it is given: without redis-server each test shows as skipped. */
export const suiteWithRedis = redisRequirement.suite;

/** A port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: "127.0.0.1" });
    let buf = "";
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on("error", () => done(false));
    sock.on("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      // "-LOADING" while the AOF is replayed: not ready yet.
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
  });
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  // A test that crashed must not leave servers behind.
  for (const child of live) child.kill("SIGKILL");
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Start a private redis-server; resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisHandle> {
  const bin = redisBinary();
  if (!bin) throw new Error(missingRedis() ?? "redis-server not found");
  const dir = mkdtempSync(join(tmpdir(), "rapidai-redis-"));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let stopped = false;
  let log = "";

  const args = () => [
    ...(options.config === undefined ? [] : [options.config]),
    ...(options.sentinel ? ["--sentinel"] : []),
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--appendonly",
    options.appendonly ? "yes" : "no",
    ...(options.appendonly ? ["--appendfsync", "always"] : []),
    ...(options.args ?? []),
  ];

  const launch = async (): Promise<boolean> => {
    log = "";
    const c = spawn(bin, args(), { stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    live.add(c);
    c.once("exit", () => live.delete(c));
    c.stdout?.on("data", (d) => {
      log = (log + d.toString()).slice(-4000);
    });
    c.stderr?.on("data", (d) => {
      log = (log + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) return false;
      if (await ping(port)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    c.kill("SIGKILL");
    await exited(c);
    return false;
  };

  let ok = false;
  for (let tries = 0; tries < 5 && !ok; tries++) {
    ok = await launch();
    // The free port may have been taken between probing and binding.
    if (!ok && options.port === undefined && /Address already in use/i.test(log)) {
      port = await freePort();
    } else if (!ok) break;
  }
  if (!ok) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start on port ${port}:\n${log}`);
  }

  const handle: RedisHandle = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.kill(signal);
      if (signal === "SIGKILL" || signal === "SIGTERM" || signal === "SIGINT") await exited(c);
    },
    async restart(opts = {}) {
      if (stopped) throw new Error("restart() after stop()");
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        // A SIGSTOPped server would ignore SIGTERM until continued.
        c.kill("SIGCONT");
        c.kill(opts.hard ? "SIGKILL" : "SIGTERM");
        await exited(c);
      }
      if (!(await launch())) throw new Error(`redis-server did not restart on ${port}:\n${log}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        c.kill("SIGCONT");
        c.kill("SIGTERM");
        const t = setTimeout(() => c.kill("SIGKILL"), 5000);
        await exited(c);
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** A private server and a plain client on it, for a test file. */
export interface RedisFixture {
  /** Both set once the file's `before` hook ran. */
  readonly server: RedisHandle;
  readonly raw: Redis;
}

/** Registers the file's hooks: start a server and a client before, close both after. */
export function redisFixture(options: StartRedisOptions = {}): RedisFixture {
  let server: RedisHandle | undefined;
  let raw: Redis | undefined;
  before(async () => {
    server = await startRedis(options);
    raw = new Redis(server.url);
  });
  after(async () => {
    raw?.disconnect();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the Redis fixture has not started");
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get raw() {
      return started(raw);
    },
  };
}

/** Runs `fn` on a plain, short-lived connection to the server on `port` of this host. */
export async function ask<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
  c.on("error", () => {});
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}
