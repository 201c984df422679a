import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * One process that runs a queue's jobs, as `queue.listWorkers()` reports
 * it. With Redis every process registers itself under the queue's prefix
 * and renews that record while it runs; a process that dies disappears
 * once its record's TTL ran out.
 *
 * @example
 * ```ts
 * for (const w of await queue.listWorkers()) {
 *   console.log(`${w.host}:${w.pid} ${w.running}/${w.threads} busy, seen ${w.heartbeatAt.toISOString()}`);
 * }
 * ```
 */
export interface WorkerInfo {
  /** Unique per process and queue: `<host>:<pid>:<random>`. */
  id: string;
  host: string;
  pid: number;
  /** The queue it runs: its backend and (Redis) key prefix. */
  backend: "memory" | "redis";
  prefix: string | undefined;
  /** Worker threads its pool grows to. */
  threads: number;
  /** Jobs it holds now (running, or claimed and about to run). */
  running: number;
  /** Version of this package it runs. */
  version: string;
  startedAt: Date;
  /** When it last renewed its record. */
  heartbeatAt: Date;
}

let cachedVersion: string | undefined;

/** This package's version (from its package.json). */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      // dist/src/worker-info.js → the package root.
      const url = new URL("../../package.json", import.meta.url);
      cachedVersion = String(JSON.parse(readFileSync(url, "utf8")).version);
    } catch {
      cachedVersion = "unknown";
    }
  }
  return cachedVersion;
}

/** The record of this process, with `running` jobs held now. */
export function thisProcess(
  id: string,
  queue: { backend: "memory" | "redis"; prefix: string | undefined; threads: number },
  startedAt: number,
  running: number,
): WorkerInfo {
  return {
    id,
    host: hostname(),
    pid: process.pid,
    ...queue,
    running,
    version: packageVersion(),
    startedAt: new Date(startedAt),
    heartbeatAt: new Date(),
  };
}
