import type { FastifyInstance } from "fastify";
import type { JobQueue } from "../job-queue.js";
import type { WorkerInfo } from "../worker-info.js";

/** A worker process as `GET /workers` shows it (snake_case, ISO times, like the job routes). */
export function workerJson(w: WorkerInfo): Record<string, unknown> {
  return {
    id: w.id,
    host: w.host,
    pid: w.pid,
    backend: w.backend,
    prefix: w.prefix ?? null,
    threads: w.threads,
    running: w.running,
    version: w.version,
    started_at: w.startedAt.toISOString(),
    heartbeat_at: w.heartbeatAt.toISOString(),
  };
}

/**
 * `GET /workers`: the processes running the queue's jobs now, from the
 * records they renew (Redis: every process sharing the prefix; a killed
 * one drops out within its TTL).
 */
export function installWorkerRoutes(app: FastifyInstance, queue: JobQueue): void {
  app.get("/workers", async () => ({
    workers: (await queue.listWorkers()).map(workerJson),
  }));
}
