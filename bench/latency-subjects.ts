/**
 * What the latency scenario submits no-op jobs to, one shape for every
 * engine: submit one job and learn when it started (where the engine tells)
 * and when it was done, as `performance.now()` on the main thread.
 */
import { getQueue, type JobQueue } from "rapidai/background";
import { benchQueueName } from "./engines/engine.js";
import { redisQueueAvailable } from "./engines/rapidai-redis.js";
import { redisEndpoint } from "./redis.js";
import { CaseSkipped } from "./skip.js";
import { noop } from "./tasks.js";

/** Called once per job: when it started (undefined where the engine does not say) and when it was done. */
export type Timed = (startedAt: number | undefined, doneAt: number) => void;

export interface LatencySubject {
  /** Submits one no-op job; `timed` is called when it is done. */
  submit(timed: Timed): void;
  /** The first error a job or the engine reported, if any. */
  failure(): unknown;
  close(): Promise<void>;
}

export interface SubjectOptions {
  threads: number;
  redisUrl: string | undefined;
}

/** Jobs in flight by id, with their start time once known. */
class InFlight {
  readonly #jobs = new Map<string, { timed: Timed; startedAt: number | undefined }>();
  #seq = 0;

  add(timed: Timed): string {
    const id = `lat-${process.pid}-${++this.#seq}`;
    this.#jobs.set(id, { timed, startedAt: undefined });
    return id;
  }

  started(id: string): void {
    const j = this.#jobs.get(id);
    if (j !== undefined) j.startedAt = performance.now();
  }

  done(id: string): void {
    const now = performance.now();
    const j = this.#jobs.get(id);
    if (j === undefined) return;
    this.#jobs.delete(id);
    j.timed(j.startedAt, now);
  }
}

async function ours(queue: JobQueue): Promise<LatencySubject> {
  const jobs = new InFlight();
  let failure: unknown;
  queue.on("started", (e) => jobs.started(e.jobId));
  queue.on("completed", (e) => jobs.done(e.jobId));
  queue.on("failed", (e) => {
    failure ??= new Error(`job ${e.jobId} failed: ${e.error}`);
  });
  await queue.start();
  return {
    submit(timed) {
      noop.enqueueWith({ jobId: jobs.add(timed) }).catch((error: unknown) => {
        failure ??= error;
      });
    },
    failure: () => failure,
    close: () => queue.close(),
  };
}

async function piscina(o: SubjectOptions): Promise<LatencySubject> {
  const { Piscina } = await import("piscina");
  const pool = new Piscina({
    filename: new URL("./workers/pool-noop.js", import.meta.url).href,
    minThreads: o.threads,
    maxThreads: o.threads,
  });
  let failure: unknown;
  return {
    submit(timed) {
      pool.run(null).then(
        () => timed(undefined, performance.now()),
        (error: unknown) => {
          failure ??= error;
        },
      );
    },
    failure: () => failure,
    close: () => pool.destroy(),
  };
}

/** BullMQ with its worker in this process, concurrency 50, as in the throughput scenario. */
async function bullmq(url: string): Promise<LatencySubject> {
  const { Queue, Worker } = await import("bullmq");
  const connection = { ...redisEndpoint(url), maxRetriesPerRequest: null };
  const name = benchQueueName("bullmq-latency");
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, async () => null, { connection, concurrency: 50 });
  const jobs = new InFlight();
  let failure: unknown;
  worker.on("active", (job) => jobs.started(job.id!));
  worker.on("completed", (job) => jobs.done(job.id!));
  worker.on("failed", (job, error) => {
    failure ??= new Error(`BullMQ job ${job?.id} failed: ${error.message}`);
  });
  worker.on("error", (error) => {
    failure ??= error;
  });
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  return {
    submit(timed) {
      queue.add("noop", {}, { jobId: jobs.add(timed) }).catch((error: unknown) => {
        failure ??= error;
      });
    },
    failure: () => failure,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

/** bee-queue with its processor in this process, concurrency 50; it reports no start. */
async function beeQueue(url: string): Promise<LatencySubject> {
  const { default: BeeQueue } = await import("bee-queue");
  const queue = new BeeQueue(benchQueueName("bee-latency"), {
    redis: redisEndpoint(url) as never,
  });
  const jobs = new InFlight();
  let failure: unknown;
  queue.on("succeeded", (job) => jobs.done(String(job.id)));
  queue.on("failed", (job, error) => {
    failure ??= new Error(`bee-queue job ${job.id} failed: ${error.message}`);
  });
  queue.on("error", (error) => {
    failure ??= error;
  });
  queue.process(50, async () => null);
  await queue.ready();
  return {
    submit(timed) {
      queue
        .createJob({})
        .setId(jobs.add(timed))
        .save()
        .catch((error: unknown) => {
          failure ??= error;
        });
    },
    failure: () => failure,
    close: () => queue.close(),
  };
}

export async function openSubject(engine: string, o: SubjectOptions): Promise<LatencySubject> {
  switch (engine) {
    case "rapidai-memory":
      return ours(getQueue("memory", { threads: o.threads }));
    case "rapidai-redis":
      if (!redisQueueAvailable())
        throw new CaseSkipped("RedisQueue is not exported by rapidai/background in this build");
      return ours(
        getQueue("redis", {
          url: o.redisUrl,
          prefix: `bench-latency-${process.pid}:`,
          threads: o.threads,
        }),
      );
    case "piscina":
      return piscina(o);
    case "bullmq":
      return bullmq(needRedis(o));
    case "bee-queue":
      return beeQueue(needRedis(o));
    default:
      throw new Error(`no latency subject for engine ${engine}`);
  }
}

function needRedis(o: SubjectOptions): string {
  if (o.redisUrl === undefined) throw new Error("this case needs Redis");
  return o.redisUrl;
}
