import { performance } from "node:perf_hooks";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type {
  CancelledEvent,
  CompletedEvent,
  EnqueuedEvent,
  FailedEvent,
  RetryingEvent,
  StartedEvent,
} from "../events.js";
import type { JobCounts, JobQueue } from "../job-queue.js";
import { JOB_STATUSES } from "../job-status.js";

const MAX_TRACKED = 100_000;

/** Run-time buckets in seconds: from a no-op job to a long computation. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The service's Prometheus metrics, in a registry of its own (two services
 * in one process do not collide). Job counts are read from the queue at
 * scrape time; run times, retries and failures are counted from the queue's
 * events, so with Redis they include jobs run by other processes.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly #detach: () => void;

  constructor(queue: JobQueue, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    // One countJobs() per scrape, shared by the two gauges below. A backend
    // that is down must not fail the whole scrape: the process metrics still
    // matter, and rapidai_backend_up says what happened.
    let scrape: Promise<JobCounts | undefined> | undefined;
    const counts = () =>
      (scrape ??= queue.countJobs().then(
        (c) => c,
        () => undefined,
      )).finally(() => {
        scrape = undefined;
      });
    new Gauge({
      name: "rapidai_jobs",
      help: "Jobs in the queue by status, read from the queue at scrape time.",
      labelNames: ["status"] as const,
      registers,
      collect: async function (this: Gauge<"status">) {
        const c = await counts();
        if (c === undefined) this.reset();
        else for (const status of JOB_STATUSES) this.set({ status }, c[status]);
      },
    });
    new Gauge({
      name: "rapidai_backend_up",
      help: "1 when the queue's backend answered this scrape's job count, else 0.",
      registers,
      collect: async function (this: Gauge) {
        this.set((await counts()) === undefined ? 0 : 1);
      },
    });
    const duration = new Histogram({
      name: "rapidai_job_duration_seconds",
      help: "Run time of attempts, by task and outcome: completed, or failed (including attempts that are retried).",
      labelNames: ["task", "outcome"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    const enqueued = new Counter({
      name: "rapidai_jobs_enqueued_total",
      help: "Jobs enqueued, by task.",
      labelNames: ["task"] as const,
      registers,
    });
    const completed = new Counter({
      name: "rapidai_jobs_completed_total",
      help: "Jobs completed, by task.",
      labelNames: ["task"] as const,
      registers,
    });
    const failures = new Counter({
      name: "rapidai_job_failures_total",
      help: "Jobs failed for good (no retry left), by task.",
      labelNames: ["task"] as const,
      registers,
    });
    const retries = new Counter({
      name: "rapidai_job_retries_total",
      help: "Failed attempts that were scheduled for a retry, by task.",
      labelNames: ["task"] as const,
      registers,
    });

    // A failed attempt's event may not carry its run time: then it is
    // measured from the attempt's `started` event. One entry per running job;
    // capped, since a job whose process died never sends its end here.
    const startedAt = new Map<string, number>();
    const runTime = (jobId: string, durationMs: number | undefined): number | undefined => {
      const start = startedAt.get(jobId);
      startedAt.delete(jobId);
      if (typeof durationMs === "number") return durationMs / 1000;
      return start === undefined ? undefined : (performance.now() - start) / 1000;
    };
    const onEnqueued = (e: EnqueuedEvent) => enqueued.inc({ task: e.task });
    const onStarted = (e: StartedEvent) => {
      if (startedAt.size >= MAX_TRACKED) startedAt.delete(startedAt.keys().next().value!);
      startedAt.set(e.jobId, performance.now());
    };
    const onCompleted = (e: CompletedEvent) => {
      completed.inc({ task: e.task });
      const seconds = runTime(e.jobId, e.durationMs);
      if (seconds !== undefined) duration.observe({ task: e.task, outcome: "completed" }, seconds);
    };
    const onFailedAttempt = (e: FailedEvent | RetryingEvent) => {
      const seconds = runTime(e.jobId, (e as { durationMs?: number }).durationMs);
      if (seconds !== undefined) duration.observe({ task: e.task, outcome: "failed" }, seconds);
    };
    const onFailed = (e: FailedEvent) => {
      failures.inc({ task: e.task });
      onFailedAttempt(e);
    };
    const onRetrying = (e: RetryingEvent) => {
      retries.inc({ task: e.task });
      onFailedAttempt(e);
    };
    const onCancelled = (e: CancelledEvent) => startedAt.delete(e.jobId);
    const listeners = [
      ["enqueued", onEnqueued],
      ["started", onStarted],
      ["completed", onCompleted],
      ["failed", onFailed],
      ["retrying", onRetrying],
      ["cancelled", onCancelled],
    ] as const;
    for (const [name, fn] of listeners) queue.on(name, fn as never);
    this.#detach = () => {
      for (const [name, fn] of listeners) queue.off(name, fn as never);
      startedAt.clear();
    };
  }
  /** Stops listening to the queue. */
  close(): void {
    this.#detach();
    this.registry.clear();
  }
}
