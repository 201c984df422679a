import { Executor } from "../executor/executor.js";
import { allTasks } from "../registry.js";
import type { TimerQueue } from "../timer-queue.js";
import { mainThreadHost } from "../worker-host.js";
import type { EngineSettings } from "./engine-queue.js";
import { Runner } from "./runner.js";
import type { JobStore } from "./store.js";

/** A runner over `store` with its own executor (the worker-thread pool), not started. */
export function buildRunner(
  store: JobStore,
  settings: EngineSettings,
  timers: TimerQueue,
  taskNames: () => Iterable<string>,
): Runner {
  let runner: Runner | undefined;
  const executor = new Executor(settings.executor, {
    host: mainThreadHost,
    timers,
    ...(settings.maxResultBytes === undefined ? {} : { maxResultBytes: settings.maxResultBytes }),
    progress: (jobId, value) => runner?.progress(jobId, value),
    log: (jobId, lines) => runner?.log(jobId, lines),
    error: (error) => store.problem("running a job", error),
  });
  // The tasks whose limits this queue shares: its own, and those bound to
  // no queue that have limits (the runner runs any registered task, so
  // their limits hold here too; one without limits leaves Redis as it is).
  runner = new Runner(store, executor, settings.logger, () => {
    const own = new Set(taskNames());
    return allTasks().filter(
      (t) =>
        own.has(t.name) ||
        (t.queue === undefined && (t.concurrency !== undefined || t.rateLimit !== undefined)),
    );
  });
  return runner;
}
