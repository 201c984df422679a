import type { JobStatus } from "../job-status.js";

/** What each job action needs, for the message of a refusal. */
const NEEDS = {
  retry: "a failed or cancelled job can be retried",
  promote: "a delayed pending job can be promoted",
  remove: "a job that is not running can be removed",
  cancel: "a pending or running job can be cancelled",
} as const;

/** A job action on the API and the command line. */
export type JobAction = keyof typeof NEEDS;

/** Why `action` did nothing to a job in `status`; the same words on the API and the CLI. */
export function refusalMessage(action: JobAction, status: JobStatus): string {
  return `Cannot ${action} a ${status} job: only ${NEEDS[action]}`;
}
