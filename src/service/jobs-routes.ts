import type { FastifyInstance } from "fastify";
import { ErrorCode, jobError } from "../errors.js";
import { newJobId } from "../job-id.js";
import type { EnqueueOptions, JobQueue } from "../job-queue.js";
import { JOB_STATUSES, parseJobStatus } from "../job-status.js";
import { integerOption, numberOption, validateJobId } from "../validate.js";
import { jobDetail, jobListItem } from "./job-json.js";
import { nestingDepth } from "./json-safe.js";
import { removeJob } from "./operate-routes.js";
import { objectBody } from "./request-body.js";

/** Deepest nesting accepted in `args`: deeper values would overflow the stack of the encoders. */
export const MAX_ARGS_DEPTH = 64;

/** Jobs per page of `GET /jobs`. */
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/** The keys a `POST /jobs/:task` body may have. */
const BODY_KEYS = ["args", "job_id", "delay_ms", "priority", "max_retries"];

interface RouteContext {
  queue: JobQueue;
  /** The task names the service accepts, read at each request. */
  tasks: () => readonly string[];
}

const isJobId = (id: string): boolean => {
  try {
    validateJobId(id);
    return true;
  } catch {
    return false;
  }
};

/** Reads the enqueue request body: `{"args": [...]}` and optional per-job options. */
function parseEnqueueBody(body: unknown): { args: unknown[]; options: EnqueueOptions } {
  // No body at all means no arguments; a JSON `null` is a body, and not an object.
  if (body === undefined) return { args: [], options: {} };
  const o = objectBody(body, BODY_KEYS, '{"args": [...]}');
  const args = o.args === undefined ? [] : o.args;
  if (!Array.isArray(args)) throw jobError(ErrorCode.INVALID_OPTION, "`args` must be an array");
  if (nestingDepth(args, MAX_ARGS_DEPTH + 1) > MAX_ARGS_DEPTH + 1) {
    throw jobError(
      ErrorCode.ARGUMENT_NOT_CLONEABLE,
      `\`args\` nests deeper than ${MAX_ARGS_DEPTH} levels`,
    );
  }
  const options: EnqueueOptions = {};
  if (o.job_id !== undefined) options.jobId = validateJobId(o.job_id);
  if (o.delay_ms !== undefined) options.delayMs = numberOption("delay_ms", o.delay_ms, 0);
  if (o.priority !== undefined)
    options.priority = integerOption("priority", o.priority, -1_000_000, 1_000_000);
  if (o.max_retries !== undefined)
    options.maxRetries = integerOption("max_retries", o.max_retries, 0, 1000);
  return { args, options };
}

/** Reads an integer query parameter, naming it when it is not one. */
/**
 * `?include=stack` on `GET /jobs/:id`: a failed job's stack is shown only
 * when asked, so no answer carries a stack trace unless its reader wants one.
 */
function includesStack(raw: unknown): boolean {
  if (raw === undefined || raw === "") return false;
  if (raw === "stack") return true;
  throw jobError(ErrorCode.INVALID_OPTION, "`include` must be `stack` (or left out)");
}

export function intParam(
  name: string,
  raw: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === "") return fallback;
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`${name}\` must be an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/** The seed's four job routes, with additive fields for the dashboard. */
export function installJobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { queue } = ctx;

  app.post<{ Params: { task: string } }>("/jobs/:task", async (request, reply) => {
    const task = request.params.task;
    if (!ctx.tasks().includes(task)) {
      return reply
        .code(404)
        .send({ error: `Unknown task "${task}"`, code: ErrorCode.UNKNOWN_TASK });
    }
    const { args, options } = parseEnqueueBody(request.body);
    const jobId = await queue.enqueue(options.jobId ?? newJobId(), task, args, options);
    return reply.code(202).send({ job_id: jobId, status: "queued", check_url: `/jobs/${jobId}` });
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(
    "/jobs/:id",
    async (request, reply) => {
      const stack = includesStack(request.query.include);
      const id = request.params.id;
      const job = isJobId(id) ? await queue.getResult(id) : undefined;
      if (job === undefined) return reply.code(404).send({ error: "Job not found" });
      return jobDetail(job, { stack });
    },
  );

  app.delete<{ Params: { id: string }; Querystring: Record<string, unknown> }>(
    "/jobs/:id",
    async (request, reply) => {
      const id = request.params.id;
      if (await removeJob(queue, id, request.query.remove, reply)) return reply;
      const cancelled = isJobId(id) && (await queue.cancel(id));
      if (!cancelled) return reply.code(400).send({ error: "Cannot cancel job" });
      return { status: "cancelled" };
    },
  );

  app.get<{ Querystring: Record<string, unknown> }>("/jobs", async (request) => {
    const q = request.query;
    const status = q.status === undefined || q.status === "" ? undefined : parseJobStatus(q.status);
    const task = q.task === undefined || q.task === "" ? undefined : q.task;
    if (task !== undefined && typeof task !== "string") {
      throw jobError(ErrorCode.INVALID_OPTION, "`task` must be given once");
    }
    const limit = intParam("limit", q.limit, DEFAULT_LIST_LIMIT, 0, MAX_LIST_LIMIT);
    const offset = intParam("offset", q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const [jobs, counts] = await Promise.all([
      queue.listJobs(status, { limit, offset, ...(task === undefined ? {} : { task }) }),
      task === undefined ? queue.countJobs() : undefined,
    ]);
    const out: Record<string, unknown> = { jobs: jobs.map(jobListItem) };
    if (counts !== undefined) {
      out.total =
        status === undefined ? JOB_STATUSES.reduce((n, s) => n + counts[s], 0) : counts[status];
    }
    out.limit = limit;
    out.offset = offset;
    return out;
  });
}
