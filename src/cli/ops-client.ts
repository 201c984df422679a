import type { CleanOptions, JobQueue } from "../job-queue.js";
import type { JobStatus } from "../job-status.js";
import { jobDetail, jobListItem } from "../service/job-json.js";
import { type JobAction, refusalMessage } from "../service/refusals.js";

/** Answers in the service's JSON shapes (snake_case), whichever way the CLI reached the queue. */
export type Json = Record<string, unknown>;

/** A refused action: the job is unknown (`missing`) or in the wrong state (`conflict`). */
export class OpsRefusal extends Error {
  override name = "OpsRefusal";
  constructor(
    readonly kind: "missing" | "conflict",
    message: string,
  ) {
    super(message);
  }
}

/** What `rapidai-jobs jobs` and `queue` do, against Redis directly or a running service. */
export interface OpsClient {
  list(options: {
    status?: JobStatus;
    task?: string;
    limit: number;
    offset: number;
  }): Promise<Json>;
  show(id: string): Promise<Json>;
  retry(id: string): Promise<Json>;
  cancel(id: string): Promise<Json>;
  logs(id: string): Promise<Json>;
  pause(): Promise<Json>;
  resume(): Promise<Json>;
  counts(): Promise<Json>;
  clean(options: CleanOptions): Promise<Json>;
  close(): Promise<void>;
}

const notFound = () => new OpsRefusal("missing", "Job not found");

/** An {@link OpsClient} over a queue in this process (an enqueue-only `RedisQueue`). */
export function queueClient(queue: JobQueue): OpsClient {
  /** A refused job action: unknown job, or the state it is in. */
  const refuse = async (id: string, action: JobAction): Promise<never> => {
    const job = await queue.getResult(id);
    if (job === undefined) throw notFound();
    throw new OpsRefusal("conflict", refusalMessage(action, job.status));
  };
  return {
    async list({ status, task, limit, offset }) {
      const [jobs, counts] = await Promise.all([
        queue.listJobs(status, { limit, offset, ...(task === undefined ? {} : { task }) }),
        task === undefined ? queue.countJobs() : undefined,
      ]);
      const out: Json = { jobs: jobs.map(jobListItem) };
      if (counts !== undefined) {
        out.total =
          status === undefined ? Object.values(counts).reduce((a, b) => a + b, 0) : counts[status];
      }
      out.limit = limit;
      out.offset = offset;
      return out;
    },
    async show(id) {
      const job = await queue.getResult(id);
      if (job === undefined) throw notFound();
      return jobDetail(job, { stack: true });
    },
    async retry(id) {
      if (!(await queue.retry(id))) await refuse(id, "retry");
      return { job_id: id, status: "pending" };
    },
    async cancel(id) {
      if (!(await queue.cancel(id))) await refuse(id, "cancel");
      return { job_id: id, status: "cancelled" };
    },
    async logs(id) {
      const logs = await queue.getLogs(id);
      if (logs === undefined) throw notFound();
      return { job_id: id, logs };
    },
    async pause() {
      await queue.pause();
      return { paused: true };
    },
    async resume() {
      await queue.resume();
      return { paused: false };
    },
    async counts() {
      const [paused, counts] = await Promise.all([queue.isPaused(), queue.countJobs()]);
      return { paused, counts, backend: queue.backend };
    },
    async clean(options) {
      return { removed: await queue.clean(options) };
    },
    close: () => queue.close(),
  };
}

/** An {@link OpsClient} over the HTTP API of a running service. */
export function httpClient(base: string, token: string | undefined): OpsClient {
  const root = base.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${root}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new Error(`cannot reach the service at ${root}${cause ? ` (${cause})` : ""}`);
    }
    const text = await res.text();
    let json: Json | undefined;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = undefined;
    }
    if (res.ok && json !== undefined) return json;
    const message = typeof json?.error === "string" ? json.error : `HTTP ${res.status}`;
    if (res.status === 404 && path.startsWith("/jobs/")) throw notFound();
    if (res.status === 409 || (res.status === 400 && message === "Cannot cancel job")) {
      throw new OpsRefusal("conflict", message);
    }
    if (res.status === 401) {
      throw new Error(`the service refused the request (${message}): check --token`);
    }
    throw new Error(`the service answered ${res.status}: ${message}`);
  };
  const id = (jobId: string) => encodeURIComponent(jobId);
  return {
    list({ status, task, limit, offset }) {
      const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
      if (status !== undefined) q.set("status", status);
      if (task !== undefined) q.set("task", task);
      return call("GET", `/jobs?${q}`);
    },
    show: (jobId) => call("GET", `/jobs/${id(jobId)}?include=stack`),
    retry: (jobId) => call("POST", `/jobs/${id(jobId)}/retry`),
    async cancel(jobId) {
      try {
        await call("DELETE", `/jobs/${id(jobId)}`);
      } catch (error) {
        // The service answers 400 for an unknown and a finished job alike.
        if (!(error instanceof OpsRefusal)) throw error;
        const job = await call("GET", `/jobs/${id(jobId)}`);
        throw new OpsRefusal("conflict", refusalMessage("cancel", job.status as JobStatus));
      }
      return { job_id: jobId, status: "cancelled" };
    },
    logs: (jobId) => call("GET", `/jobs/${id(jobId)}/logs`),
    pause: () => call("POST", "/queue/pause"),
    resume: () => call("POST", "/queue/resume"),
    counts: () => call("GET", "/queue"),
    clean({ status, olderThanMs, limit }) {
      return call("POST", "/queue/clean", {
        status,
        ...(olderThanMs === undefined ? {} : { older_than_ms: olderThanMs }),
        ...(limit === undefined ? {} : { limit }),
      });
    },
    close: async () => {},
  };
}
