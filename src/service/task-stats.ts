import type { FastifyInstance } from "fastify";
import type { JobQueue } from "../job-queue.js";
import type { JobResult } from "../job-result.js";
import { intParam } from "./jobs-routes.js";

/** Finished jobs read per status for `GET /api/tasks`, unless `?limit=` says otherwise. */
export const DEFAULT_TASK_STATS_LIMIT = 1000;
/** The most `?limit=` may ask for: each request reads up to three times this many jobs. */
export const MAX_TASK_STATS_LIMIT = 10_000;

const FINISHED = ["completed", "failed", "cancelled"] as const;

/** One task's line of `GET /api/tasks`. Durations are in seconds, as a job's `duration`. */
export interface TaskStats {
  task: string;
  completed: number;
  failed: number;
  cancelled: number;
  running: number;
  /** failed / (completed + failed); null before either happened. Cancelled jobs do not count. */
  failure_rate: number | null;
  /** Median duration of the completed jobs; null without one. */
  duration_p50: number | null;
  /** 95th percentile of the same. */
  duration_p95: number | null;
}

/** The whole answer: the jobs counted (`window`), then one line per task, by name. */
export interface TaskStatsAnswer {
  window: { limit: number; since: string | null; jobs: number };
  tasks: TaskStats[];
}

/** The nearest-rank percentile of ascending `sorted` (0 < p ≤ 1); null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? null;
}

const createdAt = (j: JobResult): number => j.createdAt.getTime();

/**
 * Per-task statistics over the newest finished jobs, as Flower shows them.
 * Each status is read up to `limit` jobs, newest first as `listJobs` lists
 * them (bounded work however long the queue has run). When a status filled
 * its `limit`, its oldest job marks where its history was cut: only jobs
 * created since the latest such mark are counted. Every finished job created
 * since then is in the lists, so completed and failed jobs cover the same
 * span of time and the failure rate is not skewed by one status reaching
 * further back.
 */
export async function taskStats(
  queue: JobQueue,
  taskNames: readonly string[],
  limit: number,
): Promise<TaskStatsAnswer> {
  const [running, ...finished] = await Promise.all([
    queue.listJobs("running", { limit }),
    ...FINISHED.map((s) => queue.listJobs(s, { limit })),
  ]);
  let since = Number.NEGATIVE_INFINITY;
  for (const list of finished) {
    // Newest first: the last job is the oldest one read.
    const oldest = list.length < limit ? undefined : list[list.length - 1];
    if (oldest !== undefined) since = Math.max(since, createdAt(oldest));
  }
  const byTask = new Map<string, TaskStats & { durations: number[] }>();
  const line = (task: string) => {
    let s = byTask.get(task);
    if (s === undefined) {
      s = {
        task,
        completed: 0,
        failed: 0,
        cancelled: 0,
        running: 0,
        failure_rate: null,
        duration_p50: null,
        duration_p95: null,
        durations: [],
      };
      byTask.set(task, s);
    }
    return s;
  };
  for (const name of taskNames) line(name);
  let counted = 0;
  for (const list of finished) {
    for (const job of list) {
      if (createdAt(job) < since) continue;
      counted++;
      const s = line(job.task);
      if (job.status === "completed") {
        s.completed++;
        if (job.duration !== undefined) s.durations.push(job.duration);
      } else if (job.status === "failed") s.failed++;
      else s.cancelled++;
    }
  }
  for (const job of running) line(job.task).running++;
  const tasks = [...byTask.values()]
    .sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0))
    .map(({ durations, ...s }) => {
      durations.sort((a, b) => a - b);
      const tried = s.completed + s.failed;
      return {
        ...s,
        failure_rate: tried === 0 ? null : s.failed / tried,
        duration_p50: percentile(durations, 0.5),
        duration_p95: percentile(durations, 0.95),
      };
    });
  return {
    window: {
      limit,
      since: Number.isFinite(since) ? new Date(since).toISOString() : null,
      jobs: counted,
    },
    tasks,
  };
}

/** `GET /api/tasks[?limit=n]`: {@link taskStats} of the service's queue. */
export function installTaskStatsRoute(
  app: FastifyInstance,
  queue: JobQueue,
  tasks: () => readonly string[],
): void {
  app.get<{ Querystring: Record<string, unknown> }>("/api/tasks", async (request) => {
    const limit = intParam(
      "limit",
      request.query.limit,
      DEFAULT_TASK_STATS_LIMIT,
      1,
      MAX_TASK_STATS_LIMIT,
    );
    return taskStats(queue, tasks(), limit);
  });
}
