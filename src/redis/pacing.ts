import type { Pace } from "../engine/pace-meter.js";

/** Endings written in one call when jobs end fast enough to gather them… */
const FLUSH_BATCH = 200;
/** …waiting at most this long, in ms. */
const FLUSH_WAIT_MS = 4;
const MAX_PREFETCH = 512;

/**
 * How long endings wait to fill a batch. While short jobs end in quick
 * succession, wait a little longer (at most a few ms): fewer, larger calls
 * cost Redis and this thread much less.
 */
export function flushWaitMs(pending: number, msPerJob: number): number {
  return Math.min(FLUSH_WAIT_MS, (FLUSH_BATCH - pending) * msPerJob);
}

/**
 * Jobs to hold beyond the free slots (`configured`: the prefetch option).
 * Until jobs were timed, one extra job per slot. Then enough to keep the
 * threads busy for four claim round trips at the observed pace: many for
 * jobs shorter than a round trip, none for long ones.
 */
export function prefetchFor(capacity: number, pace: Pace, configured?: number): number {
  if (configured !== undefined) return configured;
  if (pace.msPerJob < 0) return capacity;
  const extra = Math.floor((4 * pace.claimMs) / Math.max(pace.msPerJob, 0.001));
  return Math.min(extra, MAX_PREFETCH);
}
