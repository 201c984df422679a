/**
 * How big each scenario is in each profile. `quick` takes about three
 * minutes on two cores; `full` is larger and repeats more; `smoke` only
 * proves the harness works end to end and measures nothing worth reading.
 */
import type { ProfileName } from "./types.js";

export interface Profile {
  name: ProfileName;
  /** Measured iterations of each throughput batch (after `warmup` unmeasured ones). */
  iterations: number;
  warmup: number;
  throughput: {
    /** No-op jobs per batch for the in-process pools and the in-memory queue. */
    fast: number;
    /** Per batch for the Redis queues (ours, BullMQ in-process, bee-queue). */
    redis: number;
    /** Per batch for BullMQ with sandboxed worker threads, the slowest peer. */
    sandboxed: number;
  };
  cpu: {
    /** `fib(n)`: about 17 ms at n = 32 on a 2020s server core. */
    fibN: number;
    jobs: number;
    /**
     * Measured rounds of serial batch + pool batch (after `warmup`): more
     * than the throughput batches get, since the speedup is a median of
     * per-round ratios.
     */
    rounds: number;
  };
  eventLoop: { fibN: number; jobs: number };
  latency: {
    /** One-at-a-time jobs measured at idle. */
    idleJobs: number;
    /** How long each point of the offered-load curve lasts, ms. */
    loadMs: number;
    /** Rounds of the head-to-head points, ours and Piscina's in turn: each figure is their median. */
    rounds: number;
    /** Rounds of the Redis idle head to head, ours and BullMQ's in turn: `idleJobs` split among them. */
    idleRounds: number;
  };
  memory: {
    /** Pending in-memory job counts to measure. */
    counts: number[];
    /** Pending jobs stored in Redis per queue. */
    redisJobs: number;
  };
  scaling: {
    noopJobs: number;
    cpuJobs: number;
    redisJobs: number;
    /** Worker processes for the Redis scaling curve: 1..this. */
    maxProcesses: number;
  };
  payload: {
    /** Bytes carried per batch: jobs per batch = this ÷ array size. */
    bytesPerBatch: number;
    /** Unmeasured time each contender runs first, ms, past the profile's warm-up rounds. */
    warmupMs: number;
    /**
     * Measured rounds: more than the throughput batches get, since a batch
     * of large arrays lasts a fraction of a second (512 jobs of 1 MiB,
     * about 0.15 s, in the quick profile).
     */
    rounds: number;
  };
}

const quick: Profile = {
  name: "quick",
  iterations: 3,
  warmup: 1,
  throughput: { fast: 20_000, redis: 10_000, sandboxed: 2_000 },
  cpu: { fibN: 32, jobs: 48, rounds: 7 },
  eventLoop: { fibN: 32, jobs: 96 },
  latency: { idleJobs: 300, loadMs: 1_500, rounds: 5, idleRounds: 6 },
  memory: { counts: [100_000], redisJobs: 20_000 },
  scaling: { noopJobs: 10_000, cpuJobs: 32, redisJobs: 4_000, maxProcesses: 4 },
  payload: { bytesPerBatch: 512 * 1024 * 1024, warmupMs: 2_000, rounds: 8 },
};

const full: Profile = {
  name: "full",
  iterations: 10,
  warmup: 2,
  throughput: { fast: 100_000, redis: 50_000, sandboxed: 10_000 },
  cpu: { fibN: 32, jobs: 200, rounds: 12 },
  eventLoop: { fibN: 32, jobs: 400 },
  latency: { idleJobs: 2_000, loadMs: 10_000, rounds: 3, idleRounds: 10 },
  memory: { counts: [100_000, 1_000_000], redisJobs: 100_000 },
  scaling: { noopJobs: 50_000, cpuJobs: 120, redisJobs: 20_000, maxProcesses: 4 },
  payload: { bytesPerBatch: 2048 * 1024 * 1024, warmupMs: 3_000, rounds: 10 },
};

const smoke: Profile = {
  name: "smoke",
  iterations: 1,
  warmup: 0,
  throughput: { fast: 200, redis: 100, sandboxed: 20 },
  cpu: { fibN: 20, jobs: 4, rounds: 1 },
  eventLoop: { fibN: 25, jobs: 20 },
  latency: { idleJobs: 5, loadMs: 100, rounds: 1, idleRounds: 1 },
  memory: { counts: [1_000], redisJobs: 100 },
  scaling: { noopJobs: 100, cpuJobs: 4, redisJobs: 50, maxProcesses: 2 },
  payload: { bytesPerBatch: 4 * 1024 * 1024, warmupMs: 0, rounds: 1 },
};

export const PROFILES: Record<ProfileName, Profile> = { smoke, quick, full };
