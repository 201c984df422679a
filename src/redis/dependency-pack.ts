import { dependencyNotFound } from "../engine/dependencies.js";
import type { JobError } from "../errors.js";

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
 * The enqueue script's reply element for a job refused because a dependency
 * does not exist is `'!'` and that dependency's id (a job id never starts
 * with `!`, so it cannot be mistaken for the id a dedupe key led to). Returns
 * the coded error to reject that job's caller with, or undefined for any
 * other reply. Nothing of the refused job was stored.
 */
export function dependencyRefusal(jobId: string, reply: unknown): JobError | undefined {
  const text = Buffer.isBuffer(reply) ? reply.toString() : reply;
  if (typeof text !== "string" || !text.startsWith("!")) return undefined;
  return dependencyNotFound(jobId, text.slice(1));
}
