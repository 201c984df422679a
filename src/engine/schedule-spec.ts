import { Cron } from "croner";
import { ErrorCode, jobError } from "../errors.js";
import { integerOption, objectOption, rejectUnknownKeys } from "../validate.js";

/**
 * When a schedule fires: a cron expression (in a time zone), or a fixed
 * interval. Parsing and time-zone arithmetic are croner's (see
 * docs/scheduling.md for why croner): nothing here reads a cron field itself.
 */
export type ScheduleSpec = CronSpec | IntervalSpec;

/** Fires on the ticks of a cron expression. */
export interface CronSpec {
  /** Five fields (minute to weekday) or six (with seconds first), e.g. `"0 3 * * *"`. */
  cron: string;
  /** IANA time zone the fields are read in, e.g. `"Europe/Berlin"`. @default "UTC" */
  tz?: string;
}

/** Fires every `everyMs`, the first time `everyMs` after the schedule was created. */
export interface IntervalSpec {
  /** Interval in ms, an integer >= 1. */
  everyMs: number;
}

/** Longest schedule id: `sched:<id>:<fire ms>` must stay a valid job id (200 characters). */
export const MAX_SCHEDULE_ID = 150;
/** Longest cron expression accepted. */
const MAX_CRON = 200;
/** Longest interval: ten years, far beyond any use, and exact as a double. */
const MAX_EVERY_MS = 10 * 366 * 24 * 3_600_000;
/** The last ms a Date can hold: where a cron that never fires again is parked. */
export const NEVER = 8.64e15;

const SCHEDULE_ID = /^[A-Za-z0-9_.:@-]+$/;

/** A schedule id: 1 to 150 characters of letters, digits and `_ . : @ -`. */
export function validateScheduleId(value: unknown): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > MAX_SCHEDULE_ID ||
    !SCHEDULE_ID.test(value)
  ) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`id\` of a schedule must be 1 to ${MAX_SCHEDULE_ID} characters of letters, digits and _ . : @ - (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/**
 * Checks a schedule spec once, when it is stored, naming the bad option:
 * exactly one of `cron` and `everyMs`; `tz` only with `cron`, and one the
 * platform's time-zone database knows; a cron expression croner accepts and
 * that fires at least once more.
 */
export function parseScheduleSpec(value: unknown): ScheduleSpec {
  const o = objectOption("schedule", value);
  if (o === undefined) {
    throw jobError(ErrorCode.INVALID_OPTION, "a schedule needs `{ cron, tz? }` or `{ everyMs }`");
  }
  rejectUnknownKeys("", o, ["cron", "tz", "everyMs"]);
  const hasCron = o.cron !== undefined;
  const hasEvery = o.everyMs !== undefined;
  if (hasCron === hasEvery) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      "a schedule needs exactly one of `cron` and `everyMs`" +
        (hasCron ? " (got both)" : " (got neither)"),
    );
  }
  if (hasEvery) {
    if (o.tz !== undefined) {
      throw jobError(ErrorCode.INVALID_OPTION, "`tz` applies to `cron` only, not to `everyMs`");
    }
    return { everyMs: integerOption("everyMs", o.everyMs, 1, MAX_EVERY_MS) };
  }
  const cron = o.cron;
  if (typeof cron !== "string" || cron.trim().length === 0 || cron.length > MAX_CRON) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`cron\` must be a cron expression of 1 to ${MAX_CRON} characters (got ${JSON.stringify(cron)})`,
    );
  }
  const spec: CronSpec = { cron };
  if (o.tz !== undefined) spec.tz = validateTimeZone(o.tz);
  let first: number | undefined;
  try {
    first = cronNext(spec, Date.now());
  } catch (error) {
    throw jobError(
      ErrorCode.INVALID_OPTION,
      `\`cron\` ${JSON.stringify(cron)} is not a valid cron expression: ${(error as Error).message}`,
      error,
    );
  }
  if (first === undefined) {
    throw jobError(ErrorCode.INVALID_OPTION, `\`cron\` ${JSON.stringify(cron)} never fires`);
  }
  return spec;
}

/** An IANA zone name the runtime's Intl knows (it is what croner converts with). */
function validateTimeZone(value: unknown): string {
  if (typeof value === "string" && value.length > 0 && value.length <= 100) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: value });
      return value;
    } catch {
      // fall through to the coded error
    }
  }
  throw jobError(
    ErrorCode.INVALID_OPTION,
    `\`tz\` must be an IANA time zone such as "Europe/Berlin" (got ${JSON.stringify(value)})`,
  );
}

function cronNext(spec: CronSpec, after: number): number | undefined {
  // `paused` keeps croner from starting a timer of its own: it only computes.
  const job = new Cron(spec.cron, {
    paused: true,
    timezone: spec.tz ?? "UTC",
    mode: "5-or-6-parts",
  });
  return job.nextRun(new Date(after))?.getTime();
}

/**
 * The first tick of `spec` strictly after `now`, in ms. For an interval the
 * ticks stay on the grid of `anchor` (the previous nextRunAt, or the
 * creation time), so a late firing does not shift the later ones, and
 * however long nothing ran, the next tick is the first one still ahead: a
 * stretch of downtime fires once, not once per missed tick. A cron
 * expression that has no tick left (a date that never comes) gives
 * {@link NEVER}.
 */
export function nextTick(spec: ScheduleSpec, now: number, anchor = now): number {
  if ("everyMs" in spec) {
    const every = spec.everyMs;
    if (anchor > now) return anchor;
    return anchor + (Math.floor((now - anchor) / every) + 1) * every;
  }
  return cronNext(spec, now) ?? NEVER;
}

/** The job id of one firing: the same in every process, so enqueueing it twice stores one job. */
export function firingJobId(scheduleId: string, fireAt: number): string {
  return `sched:${scheduleId}:${fireAt}`;
}

/** Reads a firing's job id back into its schedule id and time (undefined if it is not one). */
export function parseFiringJobId(
  jobId: string,
): { scheduleId: string; fireAt: number } | undefined {
  const m = /^sched:(.+):(\d+)$/.exec(jobId);
  if (m === null) return undefined;
  return { scheduleId: m[1]!, fireAt: Number(m[2]) };
}
