import type { Executor } from "../executor/executor.js";
import type { TaskDefinition } from "../task-definition.js";
import type { QueueLogger } from "./queue-options.js";
import type { ClaimedJob, Refusal } from "./store.js";
import { refusalText } from "./write-back.js";

/** What the executor runs for one claim: its arguments, attempt and limits. */
export function runSpecOf(
  job: ClaimedJob,
  def: TaskDefinition,
  encodeResult: boolean,
  timeoutMs: number | undefined,
): Parameters<Executor["run"]>[0] {
  return {
    jobId: job.id,
    task: def,
    args: job.args,
    encoding: job.encoding,
    ...(job.moved === undefined ? {} : { moved: job.moved }),
    attempt: job.attempt,
    encodeResult,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(job.dependencies === undefined ? {} : { dependencies: job.dependencies }),
  };
}

/** True once `p` settles; false when `timeoutMs` passes first (undefined: no limit). */
export async function settlesWithin(p: Promise<void>, timeoutMs: number | undefined) {
  if (timeoutMs === undefined) {
    await p;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), timeoutMs);
  });
  const first = await Promise.race([p.then(() => true as const), timedOut]);
  clearTimeout(timer);
  return first;
}

// The runner's warnings, each with its code and the attempt it is about, so
// logs can be filtered by code instead of by wording.

export function warnLost(log: QueueLogger, job: ClaimedJob, why: Refusal): void {
  log.warn(
    why === "taken"
      ? `rapidai: lost the lease of job ${job.id} (attempt ${job.attempt}): it expired and the job may run elsewhere; stopping it here`
      : `rapidai: job ${job.id} (attempt ${job.attempt}) is stopped here: ${refusalText(why)}`,
    { code: "LEASE_LOST", jobId: job.id, attempt: job.attempt },
  );
}

export function warnDropped(log: QueueLogger, job: ClaimedJob, why: Refusal): void {
  log.warn(
    `rapidai: the answer of job ${job.id} (attempt ${job.attempt}) was dropped: ${refusalText(why)}`,
    { code: "ANSWER_DROPPED", jobId: job.id, attempt: job.attempt },
  );
}

export function warnRefused(log: QueueLogger, job: ClaimedJob, a: false | Refusal): void {
  log.warn(
    `rapidai: the end of job ${job.id} (attempt ${job.attempt}) was refused: ${refusalText(a)}`,
    { code: "END_REFUSED", jobId: job.id, attempt: job.attempt },
  );
}
