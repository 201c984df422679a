import { ErrorCode, jobError } from "../errors.js";
import type { CleanOptions } from "../job-queue.js";
import { integerOption, objectOption, rejectUnknownKeys } from "../validate.js";
import type { CleanQuery } from "./store.js";

const FINISHED = ["completed", "failed", "cancelled"] as const;

/** Checks the options of `clean()`, naming the bad one. */
export function parseCleanOptions(value: CleanOptions | undefined): CleanQuery {
  const o = objectOption("clean options", value);
  if (o === undefined) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "`clean` needs options: `{ status, olderThanMs?, limit? }`",
    );
  }
  rejectUnknownKeys("", o, ["status", "olderThanMs", "limit"]);
  if (!FINISHED.includes(o.status as (typeof FINISHED)[number])) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`status\` must be one of ${FINISHED.join(", ")} (got ${JSON.stringify(o.status)})`,
    );
  }
  return {
    status: o.status as CleanQuery["status"],
    olderThanMs: o.olderThanMs === undefined ? 0 : integerOption("olderThanMs", o.olderThanMs, 0),
    limit: o.limit === undefined ? Number.POSITIVE_INFINITY : integerOption("limit", o.limit, 0),
  };
}
