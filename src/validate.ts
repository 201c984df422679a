import { ErrorCode, jobError } from "./errors.js";

/**
 * Option checks shared by every constructor. Each throws `ERR_INVALID_OPTION`
 * with a message that names the option and the rule, so a bad option fails
 * at construction and never later, half-way through a job.
 */

function invalid(name: string, rule: string, value: unknown): never {
  let shown: string;
  try {
    shown = typeof value === "bigint" ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  throw jobError(ErrorCode.INVALID_OPTION, `\`${name}\` must be ${rule} (got ${shown})`);
}

/** An integer `>= min` (and `<= max` when given). */
export function integerOption(name: string, value: unknown, min: number, max?: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    invalid(
      name,
      max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
      value,
    );
  }
  if (max !== undefined && value > max) invalid(name, `an integer from ${min} to ${max}`, value);
  return value;
}

/** A finite number `>= min` (and `<= max` when given). */
export function numberOption(name: string, value: unknown, min: number, max?: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    invalid(
      name,
      max === undefined ? `a number >= ${min}` : `a number from ${min} to ${max}`,
      value,
    );
  }
  if (max !== undefined && value > max) invalid(name, `a number from ${min} to ${max}`, value);
  return value;
}

/** A non-empty string. */
export function stringOption(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) invalid(name, "a non-empty string", value);
  return value;
}

/** A boolean. */
export function booleanOption(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") invalid(name, "a boolean", value);
  return value;
}

/** One of a fixed set of strings. */
export function enumOption<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    invalid(name, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`, value);
  }
  return value as T;
}

/** A plain object (or undefined, which passes through). */
export function objectOption(name: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    invalid(name, "an object", value);
  }
  return value as Record<string, unknown>;
}

/** Rejects keys the caller did not expect, naming them: a typo must not pass silently. */
export function rejectUnknownKeys(
  where: string,
  value: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw jobError(
        ErrorCode.INVALID_OPTION,
        `unknown option \`${where}${key}\`: expected one of ${known.join(", ")}`,
      );
    }
  }
}

const JOB_ID = /^[A-Za-z0-9_.:@-]{1,200}$/;

/**
 * A job id is 1 to 200 characters of letters, digits and `_ . : @ -`: safe in
 * a URL path, a Redis key and a log line alike.
 */
export function validateJobId(value: unknown): string {
  if (typeof value !== "string" || !JOB_ID.test(value)) {
    throw jobError(
      ErrorCode.INVALID_JOB_ID,
      `invalid job id ${JSON.stringify(value)}: use 1 to 200 characters of letters, digits and _ . : @ -`,
    );
  }
  return value;
}
