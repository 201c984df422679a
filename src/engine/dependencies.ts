import { ErrorCode, jobError } from "../errors.js";
import type { JobResult } from "../job-result.js";
import type { JobStatus } from "../job-status.js";
import { validateJobId } from "../validate.js";

/**
 * `enqueueWith({ dependsOn })` (DESIGN.md section 7), the parts both
 * backends share: the option's check, the classing of dependencies at
 * enqueue, the dependent's error, and the results `currentJob().dependencies()`
 * returns.
 */

/** Most dependencies one job may list. */
export const MAX_DEPENDENCIES = 1000;

/**
 * Checks `dependsOn`: an array of valid job ids, at most 1000, not the job's
 * own id. Repeats are dropped. An empty array means none.
 */
export function parseDependsOn(value: unknown, jobId?: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_DEPENDENCIES) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`dependsOn\` must be an array of at most ${MAX_DEPENDENCIES} job ids`,
    );
  }
  const ids = new Set<string>();
  for (const id of value) {
    try {
      ids.add(validateJobId(id));
    } catch (error) {
      throw jobError(
        ErrorCode.INVALID_OPTION,
        `\`dependsOn\` holds an invalid job id ${JSON.stringify(id)}`,
        error,
      );
    }
  }
  if (jobId !== undefined && ids.has(jobId)) {
    throw jobError(ErrorCode.INVALID_OPTION, `\`dependsOn\` names the job itself (${jobId})`);
  }
  return [...ids];
}

/** Where a new job stands with its dependencies at enqueue. */
export type DependencyClass =
  | { kind: "missing"; dependency: string }
  | { kind: "failed"; dependency: string; status: JobStatus }
  | { kind: "ready" }
  | { kind: "waiting"; unfinished: string[] };

/**
 * Classes a new job's dependencies by their status now: one unknown id
 * refuses the enqueue (nothing is stored); one failed or cancelled fails the
 * job at once; all completed makes it ready; otherwise it waits for the
 * unfinished ones.
 */
export function classifyDependencies(
  dependsOn: readonly string[],
  statusOf: (jobId: string) => JobStatus | undefined,
): DependencyClass {
  const unfinished: string[] = [];
  let failed: { dependency: string; status: JobStatus } | undefined;
  for (const d of dependsOn) {
    const status = statusOf(d);
    if (status === undefined) return { kind: "missing", dependency: d };
    if (status === "failed" || status === "cancelled") failed ??= { dependency: d, status };
    else if (status !== "completed") unfinished.push(d);
  }
  if (failed !== undefined) return { kind: "failed", ...failed };
  return unfinished.length === 0 ? { kind: "ready" } : { kind: "waiting", unfinished };
}

/** The refusal of an enqueue whose dependency does not exist. */
export function dependencyNotFound(jobId: string, dependency: string) {
  return jobError(
    ErrorCode.DEPENDENCY_NOT_FOUND,
    `job ${jobId} depends on ${JSON.stringify(dependency)}, which the queue does not know`,
  );
}

/** The error a dependent ends with, as stored on the job (the Redis scripts write the same). */
export function dependencyFailure(
  dependency: string,
  status: JobStatus,
): { name: string; message: string; code: string } {
  return {
    name: "JobError",
    message: `dependency ${dependency} ended ${status}, so this job never ran`,
    code: ErrorCode.DEPENDENCY_FAILED,
  };
}

/**
 * The results of a job's dependencies, `{ [jobId]: result }`, as
 * `currentJob().dependencies()` returns them. A dependency the queue no
 * longer knows (its retention ran out) maps to undefined.
 */
export async function dependencyResults(
  dependsOn: readonly string[],
  getResult: (jobId: string) => Promise<JobResult | undefined>,
): Promise<Record<string, unknown>> {
  const results = await Promise.all(dependsOn.map((id) => getResult(id)));
  const out: Record<string, unknown> = {};
  dependsOn.forEach((id, i) => {
    out[id] = results[i]?.result;
  });
  return out;
}
