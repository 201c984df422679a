import Fastify, { type FastifyInstance } from "fastify";
import type { JobQueue } from "../job-queue.js";
import { validateJobId } from "../validate.js";
import { installAuth, tokenCheck } from "./auth.js";
import { frameworkErrorHandler, installErrorHandler } from "./error-handler.js";
import { EventStream } from "./event-stream.js";
import { installJobRoutes } from "./jobs-routes.js";
import { ServiceMetrics } from "./metrics.js";
import { installOperateRoutes } from "./operate-routes.js";
import { DEFAULT_DASHBOARD_DIR, installStaticFiles } from "./static-files.js";
import { installTaskStatsRoute } from "./task-stats.js";
import { installWorkerRoutes } from "./workers-routes.js";

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** The queue the service enqueues to and reads from. Closing the service does not close it. */
  queue: JobQueue;
  /**
   * Task names `POST /jobs/:task` accepts; any other name is a 404.
   * @default the tasks bound to `queue`, read at each request (`queue.taskNames()`)
   */
  tasks?: readonly string[];
  /**
   * Bearer token every route requires (`Authorization: Bearer <token>`; the
   * page, its assets and `/events` also take `?token=`). @default no token
   */
  token?: string;
  /** Largest request body accepted, in bytes; a larger one is a 413. @default 1048576 (1 MiB) */
  bodyLimit?: number;
  /** Interval of the keep-alive comment on `/events`, in ms. @default 15000 */
  heartbeatMs?: number;
  /** Directory of the dashboard's static files. @default `dashboard/public/` beside this module */
  dashboardDir?: URL | string;
  /** Also export Node process metrics (CPU, memory, event-loop lag) at `/metrics`. @default true */
  processMetrics?: boolean;
  /** On `close()`, how long requests in flight may take before their connections are cut, in ms. @default 10000 */
  closeGraceMs?: number;
  /** Fastify's request logging (pino). @default false */
  logger?: boolean;
  /** Where errors of failed requests are reported (never to the client). @default console.error */
  logError?: (message: string, error: unknown) => void;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Builds the HTTP service over a queue: the job routes of the seed's
 * complete example, `/api/stats`, `/events` (server-sent events),
 * `/metrics` (Prometheus) and the dashboard. Returns the Fastify instance,
 * not yet listening: call `listen()`, or `inject()` in a test.
 */
export function createService(options: ServiceOptions): FastifyInstance {
  const { queue } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const check = options.token === undefined ? undefined : tokenCheck(options.token);
  const app = Fastify({
    bodyLimit,
    frameworkErrors: frameworkErrorHandler(check),
    // Request logs carry the path only: a query string may hold the token.
    logger:
      options.logger === true
        ? {
            serializers: {
              req: (req) => ({
                method: req.method,
                url: req.url.split("?")[0],
                remoteAddress: req.ip,
              }),
            },
          }
        : false,
    // Job ids may be up to 200 characters (see validateJobId).
    routerOptions: { maxParamLength: 256 },
    // An EventSource connection is never idle; it is ended in preClose.
    forceCloseConnections: "idle",
  });
  const logError =
    options.logError ??
    ((message: string, error: unknown) => console.error(`rapidai-jobs: ${message}:`, error));
  installErrorHandler(app, bodyLimit, logError);
  if (check !== undefined) installAuth(app, check);
  // Only JSON bodies: Fastify's default text/plain parser would hand a
  // string to routes that expect an object (the documented answer is a 415).
  app.removeContentTypeParser("text/plain");
  app.addHook("onSend", async (_request, reply) => {
    reply.header("x-content-type-options", "nosniff");
  });

  const fixedTasks = options.tasks === undefined ? undefined : [...options.tasks];
  const tasks = () => fixedTasks ?? queue.taskNames();
  installJobRoutes(app, { queue, tasks });
  installOperateRoutes(app, queue);
  installWorkerRoutes(app, queue);

  app.get("/api/stats", async () => ({
    counts: await queue.countJobs(),
    tasks: [...tasks()].sort(),
    backend: queue.backend,
  }));
  installTaskStatsRoute(app, queue, tasks);

  const metrics = new ServiceMetrics(queue, { processMetrics: options.processMetrics ?? true });
  app.get("/metrics", async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });

  const stream = new EventStream(queue, options.heartbeatMs ?? 15_000);
  app.get<{ Querystring: Record<string, unknown> }>(
    "/events",
    { config: { queryToken: true } },
    (request, reply) => {
      const { job_id: jobId, task } = request.query;
      if (jobId !== undefined) validateJobId(jobId);
      if (task !== undefined && typeof task !== "string") {
        return reply.code(400).send({ error: "`task` must be given once" });
      }
      if (request.method === "HEAD") return reply.type("text/event-stream; charset=utf-8").send();
      reply.hijack();
      reply.raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        // The stream is the connection's last response: once it ends (the
        // server closing, a slow client dropped) the socket goes too.
        connection: "close",
        "x-accel-buffering": "no",
        "x-content-type-options": "nosniff",
      });
      stream.add(reply.raw, {
        ...(typeof jobId === "string" ? { jobId } : {}),
        ...(task === undefined ? {} : { task }),
      });
    },
  );

  installStaticFiles(app, options.dashboardDir ?? DEFAULT_DASHBOARD_DIR);

  // Graceful close: requests in flight finish; then every connection is
  // closed, including ones a client opened and never used (a browser's or
  // fetch's spare connection), which would otherwise hold `close()` open
  // until the client's own keep-alive timeout.
  let inFlight = 0;
  app.addHook("onRequest", async (_request, reply) => {
    inFlight++;
    reply.raw.once("close", () => inFlight--);
  });
  let closer: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    stream.closeAll();
    const deadline = Date.now() + (options.closeGraceMs ?? 10_000);
    closer = setInterval(() => {
      if (inFlight > 0 && Date.now() < deadline) return;
      clearInterval(closer);
      app.server.closeAllConnections();
    }, 20);
  });
  app.addHook("onClose", async () => {
    clearInterval(closer);
    metrics.close();
  });
  return app;
}
