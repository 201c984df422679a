/**
 * Drives the executor directly, as the queues do, for tests of the thread
 * side (logs, import timeout, the elastic pool). Not a test file itself.
 */
import { prepareThreadArgs } from "../../src/codec.js";
import type { Attempt, AttemptOutcome } from "../../src/executor/attempt.js";
import { Executor, type ExecutorOptions } from "../../src/executor/executor.js";
import { requireTask } from "../../src/registry.js";
import { TimerQueue } from "../../src/timer-queue.js";

export interface Harness {
  executor: Executor;
  /** Log lines by job id, in arrival order, and each batch's size. */
  logs: Map<string, string[]>;
  logBatches: number[];
  errors: Error[];
  run(
    task: string,
    args: unknown[],
    extra?: { timeoutMs?: number; jobId?: string },
  ): { attempt: Attempt; ended: Promise<AttemptOutcome> };
}

const harnesses: Harness[] = [];
let next = 0;

export function openExecutor(options: ExecutorOptions): Harness {
  const logs = new Map<string, string[]>();
  const logBatches: number[] = [];
  const errors: Error[] = [];
  const executor = new Executor(options, {
    host: { enqueue: async () => "refused" },
    progress() {},
    log(jobId, lines) {
      logBatches.push(lines.length);
      logs.set(jobId, [...(logs.get(jobId) ?? []), ...lines]);
    },
    error: (e) => errors.push(e),
    timers: new TimerQueue(),
  });
  const harness: Harness = {
    executor,
    logs,
    logBatches,
    errors,
    run(task, args, extra = {}) {
      const { bytes, encoding, moved } = prepareThreadArgs(args);
      let done!: (o: AttemptOutcome) => void;
      const ended = new Promise<AttemptOutcome>((resolve) => {
        done = resolve;
      });
      const attempt = executor.run(
        {
          jobId: extra.jobId ?? `job-${++next}`,
          task: requireTask(task),
          args: bytes,
          encoding,
          ...(moved === undefined ? {} : { moved }),
          attempt: 1,
          encodeResult: false,
          ...(extra.timeoutMs === undefined ? {} : { timeoutMs: extra.timeoutMs }),
        },
        (outcome) => done(outcome),
      );
      return { attempt, ended };
    },
  };
  harnesses.push(harness);
  return harness;
}

export async function closeExecutors(): Promise<void> {
  await Promise.all(harnesses.splice(0).map((h) => h.executor.close()));
}

/** Waits until `condition()` holds, checking every few ms; fails after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The value of an `ok` outcome, or a failure that shows the outcome. */
export function okValue(outcome: AttemptOutcome): unknown {
  if (outcome.kind !== "ok") throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
  return outcome.value;
}
