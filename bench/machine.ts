/** Facts about the machine a run was made on: figures mean nothing without them. */
import { readFileSync } from "node:fs";
import os from "node:os";
import { redisVersion } from "./redis.js";
import type { MachineFacts } from "./types.js";

function cpuModel(): string {
  const fromOs = os.cpus()[0]?.model?.trim();
  if (fromOs) return fromOs;
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    return /model name\s*:\s*(.+)/.exec(info)?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

function loadAvg(): number[] {
  return os.loadavg().map((v) => Math.round(v * 100) / 100);
}

export function machineFacts(): MachineFacts {
  return {
    cpuModel: cpuModel(),
    cores: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    osRelease: os.release(),
    arch: process.arch,
    redisServer: redisVersion(),
    loadAvgStart: loadAvg(),
  };
}

/** Records the load average at the end of the run. */
export function finishMachineFacts(facts: MachineFacts): MachineFacts {
  return { ...facts, loadAvgEnd: loadAvg() };
}
