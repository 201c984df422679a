/**
 * Processes on the test hosts of net-hosts.ts: a redis-server bound to its
 * host's address, and the producer agent (net-agent.ts) driven over IPC.
 * The test process itself is outside the namespaces and reaches neither
 * over the network: it waits for what they print or send.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NetHost, NetHosts } from "./net-hosts.js";
import { redisBinary } from "./redis-server.js";

const AGENT = fileURLToPath(new URL("./net-agent.js", import.meta.url));

export interface HostRedis {
  /** `redis://:<password>@<address>:6379`, reachable from the other hosts only. */
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Resolves once `child`'s output matches `pattern`; rejects if it exits or times out first. */
export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`${what}: no ${pattern} within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      out = (out + d.toString()).slice(-8000);
      if (pattern.test(out)) finish();
    };
    const onExit = () => finish(new Error(`${what} exited before ${pattern}:\n${out}`));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Starts redis-server on `host`, listening on the host's address only, with
 * a password, as a Redis reachable from other machines runs (without one,
 * protected mode refuses every client that is not on loopback).
 */
export async function startHostRedis(net: NetHosts, host: NetHost): Promise<HostRedis> {
  const bin = redisBinary();
  if (!bin) throw new Error("redis-server not found");
  const dir = mkdtempSync(join(tmpdir(), "rapidai-netredis-"));
  const password = randomBytes(12).toString("hex");
  const child = net.spawn(
    host,
    bin,
    [
      "--bind",
      host.address,
      "--port",
      "6379",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--requirepass",
      password,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    await waitForOutput(child, /Ready to accept connections/, `redis-server on ${host.name}`);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://:${password}@${host.address}:6379`,
    child,
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Agent {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The hostname it reported. */
  readonly hostname: string;
  /** Calls a method of its queue (or "redisInfo", "listen", "close"). */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  /** Events it forwarded after a `listen` call, in arrival order. */
  readonly events: { event: string; e: any }[];
  /** Resolves once a forwarded event matches. */
  waitForEvent(
    match: (x: { event: string; e: any }) => boolean,
    timeoutMs?: number,
  ): Promise<{ event: string; e: any }>;
  stop(): Promise<void>;
}

/** Starts the producer agent on `host`; resolves once its queue reached Redis. */
export async function startAgent(
  net: NetHosts,
  host: NetHost,
  url: string,
  prefix: string,
  taskModule?: string,
): Promise<Agent> {
  const child = net.spawn(
    host,
    process.execPath,
    [AGENT, url, prefix, ...(taskModule === undefined ? [] : [taskModule])],
    // "advanced": Dates and Buffers arrive as they are.
    { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" },
  );
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const events: { event: string; e: any }[] = [];
  const watchers = new Set<() => void>();
  let next = 0;
  let hostname = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      const error = new Error(`the agent on ${host.name} exited (${code ?? signal})`);
      reject(error);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
    child.on("message", (m: any) => {
      if (m.ready !== undefined) {
        hostname = m.ready;
        resolve();
      } else if (m.event !== undefined) {
        events.push(m);
        for (const w of watchers) w();
      } else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(Object.assign(new Error(m.error), { code: m.code }));
        else p?.resolve(m.value);
      }
    });
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  try {
    await ready;
  } finally {
    clearTimeout(timer);
  }
  const agent: Agent = {
    child,
    pid: child.pid!,
    get hostname() {
      return hostname;
    },
    events,
    call(method, ...args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, call: method, args });
      });
    },
    waitForEvent(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(match);
          if (hit) done(undefined, hit);
        };
        const timer = setTimeout(
          () => done(new Error(`no matching event within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const done = (error?: Error, hit?: { event: string; e: any }) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (error) reject(error);
          else resolve(hit!);
        };
        watchers.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = exited(child);
      const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
      agent.call("close").catch(() => {});
      await gone;
      clearTimeout(kill);
    },
  };
  return agent;
}
