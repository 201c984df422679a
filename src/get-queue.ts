import { isDeepStrictEqual } from "node:util";
import { ErrorCode, jobError } from "./errors.js";
import type { JobQueue } from "./job-queue.js";

/** The backends `getQueue` can build. */
export type BackendName = "memory" | "redis";

type Factory = (options: Record<string, unknown>) => JobQueue;
const factories = new Map<string, Factory>();

/** Called by the package entry for each backend, so this module imports none of them. */
export function registerBackend(name: BackendName, factory: Factory): void {
  factories.set(name, factory);
}

interface DefaultQueue {
  backend: string;
  options: Record<string, unknown>;
  queue: JobQueue;
}

const KEY = Symbol.for("rapidai.background.defaultQueue");
const holder = globalThis as { [KEY]?: DefaultQueue };

/**
 * The process-wide default queue, created on first call; tasks defined
 * without a `queue` option use it. Building it does no I/O and starts no
 * thread. A later call that names another backend or other options is
 * `ERR_QUEUE_CONFLICT`, never a silent second queue; `getQueue()` with no
 * arguments returns the default, whatever it is.
 *
 * @example
 * ```ts
 * // A web front end over Redis: it enqueues and reads, workers run the jobs.
 * const queue = getQueue("redis", { url: "redis://localhost:6379", prefix: "myapp:jobs:", process: false });
 * const { resize } = await import("./tasks.js");
 * const id = await resize.enqueue("img-1", 640);
 * console.log(await queue.countJobs());
 * await queue.close(); // a script exits once its Redis queue is closed
 * ```
 */
export function getQueue(backend?: BackendName, maybeOptions?: Record<string, unknown>): JobQueue {
  const options = maybeOptions ?? {};
  const current = holder[KEY];
  if (current !== undefined) {
    if (backend === undefined && maybeOptions === undefined) return current.queue;
    const wanted = backend ?? "memory";
    if (wanted !== current.backend || !isDeepStrictEqual(clean(options), current.options)) {
      throw jobError(
        ErrorCode.QUEUE_CONFLICT,
        `the default queue is already a ${current.backend} queue with options ${JSON.stringify(current.options)}; ` +
          `it cannot also be a ${wanted} queue with options ${JSON.stringify(clean(options))}`,
      );
    }
    return current.queue;
  }
  const name = backend ?? "memory";
  const factory = factories.get(name);
  if (factory === undefined) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`backend\` must be "memory" or "redis" (got ${JSON.stringify(backend)})`,
    );
  }
  const queue = factory(options);
  holder[KEY] = { backend: name, options: clean(options), queue };
  return queue;
}

/** The default queue, made as an in-memory queue if nobody asked for another. */
export function defaultQueue(): JobQueue {
  return holder[KEY]?.queue ?? getQueue("memory");
}

/** The default queue if one exists yet. */
export function defaultQueueIfExists(): JobQueue | undefined {
  return holder[KEY]?.queue;
}

/** Forgets the default queue (it is not closed). For tests and for restarts in one process. */
export function resetDefaultQueue(): void {
  delete holder[KEY];
}

function clean(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
}
