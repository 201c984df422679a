import type { FastifyInstance, FastifyReply } from "fastify";
import { ErrorCode, jobError } from "../errors.js";
import type { CleanOptions, JobQueue } from "../job-queue.js";
import { isTerminal, JOB_STATUSES } from "../job-status.js";
import { enumOption, integerOption, numberOption, validateJobId } from "../validate.js";
import { type JobAction, refusalMessage } from "./refusals.js";
import { objectBody } from "./request-body.js";

/** The statuses `POST /queue/clean` deletes: finished ones only. */
const FINISHED = JOB_STATUSES.filter((s): s is CleanOptions["status"] => isTerminal(s));

/** The keys a `POST /queue/clean` body may have. */
const CLEAN_KEYS = ["status", "older_than_ms", "limit"];

const isJobId = (id: string): boolean => {
  try {
    validateJobId(id);
    return true;
  } catch {
    return false;
  }
};

/** Reads the `POST /queue/clean` body into `clean()`'s options, naming a bad field. */
export function parseCleanBody(body: unknown): CleanOptions {
  const o = objectBody(body, CLEAN_KEYS, '{"status": …}');
  const out: CleanOptions = {
    status: enumOption("status", o.status, FINISHED),
  };
  if (o.older_than_ms !== undefined)
    out.olderThanMs = numberOption("older_than_ms", o.older_than_ms, 0);
  if (o.limit !== undefined) out.limit = integerOption("limit", o.limit, 1, 1_000_000);
  return out;
}

/** The `remove` query flag of `DELETE /jobs/:id`. */
function removeFlag(raw: unknown): boolean {
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw jobError(ErrorCode.INVALID_OPTION, "`remove` must be true or false");
}

/**
 * The routes of operating a queue: job actions (retry, promote, remove,
 * logs), the queue's pause state and counts, cleaning finished jobs, and
 * the schedules.
 */
export function installOperateRoutes(app: FastifyInstance, queue: JobQueue): void {
  /**
   * A job action that returned false: 404 for an unknown job, else 409
   * saying which states the action needs (the id is not echoed).
   */
  const refuse = async (reply: FastifyReply, id: string, action: JobAction): Promise<void> => {
    const job = isJobId(id) ? await queue.getResult(id) : undefined;
    if (job === undefined) reply.code(404).send({ error: "Job not found" });
    else reply.code(409).send({ error: refusalMessage(action, job.status), status: job.status });
  };

  app.post<{ Params: { id: string } }>("/jobs/:id/retry", async (request, reply) => {
    const id = request.params.id;
    if (isJobId(id) && (await queue.retry(id))) return { job_id: id, status: "pending" };
    await refuse(reply, id, "retry");
    return reply;
  });

  app.post<{ Params: { id: string } }>("/jobs/:id/promote", async (request, reply) => {
    const id = request.params.id;
    if (isJobId(id) && (await queue.promote(id))) return { job_id: id, status: "pending" };
    await refuse(reply, id, "promote");
    return reply;
  });

  app.get<{ Params: { id: string } }>("/jobs/:id/logs", async (request, reply) => {
    const id = request.params.id;
    const logs = isJobId(id) ? await queue.getLogs(id) : undefined;
    if (logs === undefined) return reply.code(404).send({ error: "Job not found" });
    return { job_id: id, logs };
  });

  app.post("/queue/pause", async (_request) => {
    await queue.pause();
    return { paused: true };
  });

  app.post("/queue/resume", async (_request) => {
    await queue.resume();
    return { paused: false };
  });

  app.get("/queue", async (_request) => {
    const [paused, counts] = await Promise.all([queue.isPaused(), queue.countJobs()]);
    return { paused, counts, backend: queue.backend };
  });

  app.post("/queue/clean", async (request) => {
    const options = parseCleanBody(request.body);
    return { removed: await queue.clean(options) };
  });

  app.get("/schedules", async (_request) => {
    const schedules = await queue.listSchedules();
    return {
      schedules: schedules.map((s) => {
        const out: Record<string, unknown> = { id: s.id, task: s.task };
        if (s.cron !== undefined) out.cron = s.cron;
        if (s.everyMs !== undefined) out.every_ms = s.everyMs;
        if (s.tz !== undefined) out.tz = s.tz;
        out.next_run_at = s.nextRunAt.toISOString();
        if (s.lastJobId !== undefined) out.last_job_id = s.lastJobId;
        if (s.lastRunAt !== undefined) out.last_run_at = s.lastRunAt.toISOString();
        return out;
      }),
    };
  });
}

/**
 * `DELETE /jobs/:id?remove=true`: deletes a job that is not running (the
 * plain `DELETE /jobs/:id` cancels, as in the seed). Returns false when the
 * request is a plain cancel, for the caller to handle; true once it answered.
 * (A boolean, not the reply: a Fastify reply is a thenable, and awaiting it
 * would resolve to undefined and let the caller cancel the job too.)
 */
export async function removeJob(
  queue: JobQueue,
  id: string,
  rawFlag: unknown,
  reply: FastifyReply,
): Promise<boolean> {
  if (!removeFlag(rawFlag)) return false;
  if (isJobId(id) && (await queue.remove(id))) {
    reply.send({ status: "removed" });
    return true;
  }
  const job = isJobId(id) ? await queue.getResult(id) : undefined;
  if (job === undefined) reply.code(404).send({ error: "Job not found" });
  else reply.code(409).send({ error: refusalMessage("remove", job.status), status: job.status });
  return true;
}
