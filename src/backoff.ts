import {
  enumOption,
  integerOption,
  numberOption,
  objectOption,
  rejectUnknownKeys,
} from "./validate.js";

/** How long a failed job waits before its next attempt. */
export interface BackoffOptions {
  /** @default "exponential" */
  type?: "fixed" | "exponential";
  /** The first delay (exponential) or every delay (fixed), in ms. @default 2000 */
  delayMs?: number;
  /** No delay is ever longer than this, in ms. @default 3_600_000 (one hour) */
  maxDelayMs?: number;
  /**
   * Fraction of the delay that is randomised, from 0 to 1: 0.2 spreads a
   * 10 s delay over 8 s to 10 s, so retries of many jobs do not arrive at once.
   * @default 0
   */
  jitter?: number;
}

/** A validated backoff, every field set. */
export interface Backoff {
  readonly type: "fixed" | "exponential";
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = Object.freeze({
  type: "exponential",
  delayMs: 2000,
  maxDelayMs: 3_600_000,
  jitter: 0,
});

/** Validates a backoff option; a bare number means a fixed delay in ms. */
export function parseBackoff(value: unknown): Backoff {
  if (value === undefined) return DEFAULT_BACKOFF;
  if (typeof value === "number") {
    return Object.freeze({
      ...DEFAULT_BACKOFF,
      type: "fixed",
      delayMs: integerOption("backoff", value, 0),
    });
  }
  const o = objectOption("backoff", value)!;
  rejectUnknownKeys("backoff.", o, ["type", "delayMs", "maxDelayMs", "jitter"]);
  const type =
    o.type === undefined
      ? DEFAULT_BACKOFF.type
      : enumOption("backoff.type", o.type, ["fixed", "exponential"]);
  const delayMs =
    o.delayMs === undefined
      ? DEFAULT_BACKOFF.delayMs
      : integerOption("backoff.delayMs", o.delayMs, 0);
  const maxDelayMs =
    o.maxDelayMs === undefined
      ? Math.max(DEFAULT_BACKOFF.maxDelayMs, delayMs)
      : integerOption("backoff.maxDelayMs", o.maxDelayMs, 0);
  const jitter =
    o.jitter === undefined
      ? DEFAULT_BACKOFF.jitter
      : numberOption("backoff.jitter", o.jitter, 0, 1);
  return Object.freeze({ type, delayMs, maxDelayMs, jitter });
}

/**
 * The delay before retry number `retry` (1 for the first retry).
 * Exponential: delayMs × 2^(retry-1), capped at maxDelayMs; jitter then takes
 * up to that fraction off, so the cap is never exceeded.
 */
export function backoffDelay(
  backoff: Backoff,
  retry: number,
  random: () => number = Math.random,
): number {
  const base =
    backoff.type === "fixed" ? backoff.delayMs : backoff.delayMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(base, backoff.maxDelayMs);
  if (backoff.jitter === 0) return capped;
  return Math.round(capped * (1 - backoff.jitter * random()));
}
