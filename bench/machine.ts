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

/** CPU time the whole machine has been busy, ms (all cores). */
function machineBusyMs(): number {
  let busy = 0;
  for (const c of os.cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

/**
 * CPU time of this process and of every child it has reaped (case processes,
 * their worker threads and processes, redis-servers), ms; Linux only.
 */
function ownCpuMs(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // Fields after the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(rest[i]), 0);
    // USER_HZ is 100 on every mainstream Linux.
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuMark {
  at: number;
  busyMs: number;
  ownMs: number | undefined;
}

/** A reading to compare against at the end of the run. */
export function cpuMark(): CpuMark {
  return { at: performance.now(), busyMs: machineBusyMs(), ownMs: ownCpuMs() };
}

/**
 * Share of the machine's CPU capacity that processes other than this
 * benchmark used between `start` and now (0..1), or undefined where it
 * cannot be told.
 */
export function otherCpuShare(start: CpuMark): number | undefined {
  const end = cpuMark();
  if (start.ownMs === undefined || end.ownMs === undefined) return undefined;
  const capacity = (end.at - start.at) * os.cpus().length;
  const others = end.busyMs - start.busyMs - (end.ownMs - start.ownMs);
  return capacity > 0 ? Math.min(1, Math.max(0, others / capacity)) : undefined;
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

/** Records the load average at the end of the run, and how much CPU other processes took meanwhile. */
export function finishMachineFacts(facts: MachineFacts, start: CpuMark): MachineFacts {
  const share = otherCpuShare(start);
  return {
    ...facts,
    loadAvgEnd: loadAvg(),
    ...(share === undefined ? {} : { otherCpuShare: Math.round(share * 1000) / 1000 }),
  };
}
