import { dependencyNotFound } from "../engine/dependencies.js";

/** One new job's dependencies, as the enqueue script's optional ARGV[3] takes them. */
export interface DependencyRecord {
  id: string;
  dependsOn: readonly string[];
}

/**
 * Packs the dependencies of the jobs of one enqueue batch that have some
 * (Lua `>Hc0H` per job, then `>Hc0` per dependency; see
 * includes/dependencies.lua). Jobs without dependencies are left out, and a
 * batch where none has any sends no ARGV[3] at all.
 */
export function packDependencies(records: readonly DependencyRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    if (r.dependsOn.length === 0) continue;
    parts.push(lengthPrefixed(r.id));
    const count = Buffer.alloc(2);
    count.writeUInt16BE(r.dependsOn.length);
    parts.push(count);
    for (const d of r.dependsOn) parts.push(lengthPrefixed(d));
  }
  return Buffer.concat(parts);
}

function lengthPrefixed(s: string): Buffer {
  const bytes = Buffer.from(s, "utf8");
  const head = Buffer.alloc(2);
  head.writeUInt16BE(bytes.length);
  return Buffer.concat([head, bytes]);
}

/**
 * Reads one job's element of the enqueue script's reply: 1 stored, 0
 * existed already; a string is the dependency that does not exist, turned
 * into the coded error the caller rejects with (nothing was stored).
 */
export function enqueueOutcome(jobId: string, reply: unknown): "stored" | "existed" {
  if (reply === 1) return "stored";
  if (reply === 0) return "existed";
  throw dependencyNotFound(jobId, String(reply));
}
