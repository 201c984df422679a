import type { ListQuery } from "../engine/store.js";
import type { JobCounts } from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import { JOB_STATUSES } from "../job-status.js";
import { hashFromListed, jobResultFromHash } from "./job-record.js";
import type { QueueKeys } from "./queue-keys.js";
import type { RedisLink } from "./redis-link.js";

/** One job as stored: its hash, and when a delayed one may run. */
export async function readJob(
  link: RedisLink,
  k: QueueKeys,
  jobId: string,
): Promise<JobResult | undefined> {
  const [h, due] = await link.command((c) =>
    Promise.all([c.hgetallBuffer(k.job(jobId)), c.zscore(k.delayed, jobId)]),
  );
  // A pending job in the delayed set waits for its delay or backoff: its score is when it may run.
  return jobResultFromHash(jobId, h, true, due === null ? undefined : Number(due));
}

/** Jobs newest first, from the status indexes (the list script). */
export async function listJobs(link: RedisLink, k: QueueKeys, q: ListQuery): Promise<JobResult[]> {
  const limit = q.limit === Number.POSITIVE_INFINITY ? -1 : q.limit;
  const reply = (await link.run(
    "list",
    k.statuses,
    [q.status ?? "", q.offset, limit, q.task ?? ""],
    true,
  )) as (Buffer | Buffer[])[];
  const out: JobResult[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const id = (reply[i] as Buffer).toString();
    const r = jobResultFromHash(id, hashFromListed(reply[i + 1] as (Buffer | null)[]), false);
    if (r !== undefined) out.push(r);
  }
  return out;
}

/** Jobs per status: the size of each status index, pending with the fifo list (the counts script). */
export async function countJobs(link: RedisLink, k: QueueKeys): Promise<JobCounts> {
  const counts = (await link.run("counts", k.statuses, [])) as number[];
  return Object.fromEntries(JOB_STATUSES.map((s, i) => [s, counts[i]!])) as JobCounts;
}
