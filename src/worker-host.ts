import { defaultQueue } from "./get-queue.js";
import { newJobId } from "./job-id.js";
import { requireTask } from "./registry.js";
import type { WorkerHost } from "./thread-role.js";

/**
 * What a running job may ask of the main thread, exposed to every worker
 * thread over its channel. The task is resolved in the main thread's own
 * registry, so a job can only enqueue tasks this process knows.
 */
export const mainThreadHost: WorkerHost = {
  enqueue(task, args, options) {
    const def = requireTask(task);
    const queue = def.queue ?? defaultQueue();
    return queue.enqueue(options?.jobId ?? newJobId(), task, args, options);
  },
};
