import { decodeMsgpack } from "../codec.js";
import type { ClaimedJob } from "../engine/store.js";
import { ArgsEncoding } from "../executor/protocol.js";
import { type ClaimedRecord, unpackClaims } from "./packed.js";
import type { RedisLink } from "./redis-link.js";
import type { ParsedRedisOptions } from "./redis-options.js";

/**
 * Claims up to `n` jobs with one claim script call: each is now running
 * under a lease whose token is the worker id and the attempt. The results
 * of the claimed jobs' dependencies are read in the same go (one round trip
 * for the batch, none when no job has any).
 */
export async function claimJobs(
  link: RedisLink,
  o: ParsedRedisOptions,
  workerId: string,
  n: number,
  due: (at: number) => void,
): Promise<ClaimedJob[]> {
  const k = o.keys;
  const reply = (await link.scripts.runBuffer(
    "claim",
    [k.ready, k.delayed, k.pending, k.leases],
    [workerId, n, o.worker.leaseMs],
  )) as Buffer[];
  const dueAt = reply[0]!.toString("latin1");
  if (dueAt !== "") due(Number(dueAt));
  const dropped = reply[2]?.toString() ?? "";
  if (dropped !== "") {
    o.worker.logger.warn(
      `rapidai: job(s) ${dropped.split(",").join(", ")} dropped from the queue: their key in Redis is not a job record (WRONGTYPE: something else wrote it); the value is left as it is`,
    );
  }
  const claimed = unpackClaims(reply[1]!);
  const results = await dependencyResults(link, o, claimed);
  return claimed.map((c) => ({
    id: c.id,
    task: c.task,
    attempt: c.attempt,
    maxRetries: c.maxRetries,
    timeoutMs: c.timeoutMs,
    dependsOn: c.dependsOn,
    trace: c.trace,
    ...(c.dependsOn === undefined ? {} : { dependencies: pick(results, c.dependsOn) }),
    args: c.args,
    encoding: c.args === undefined ? ArgsEncoding.NONE : ArgsEncoding.MSGPACK,
    token: `${workerId}:${c.attempt}`,
  }));
}

async function dependencyResults(
  link: RedisLink,
  o: ParsedRedisOptions,
  claimed: ClaimedRecord[],
): Promise<Map<string, unknown>> {
  const ids = [...new Set(claimed.flatMap((c) => c.dependsOn ?? []))];
  const out = new Map<string, unknown>();
  if (ids.length === 0) return out;
  const client = link.client;
  const values = await Promise.all(ids.map((id) => client.hgetBuffer(o.keys.job(id), "r")));
  for (let i = 0; i < ids.length; i++) {
    const bytes = values[i];
    let value: unknown;
    if (bytes !== null && bytes !== undefined && bytes.length > 0) {
      try {
        value = decodeMsgpack(bytes);
      } catch {
        // A corrupt result reads as none; the dependent still runs.
      }
    }
    out.set(ids[i]!, value);
  }
  return out;
}

function pick(results: Map<string, unknown>, ids: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of ids) out[id] = results.get(id);
  return out;
}
