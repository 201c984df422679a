/**
 * What the store conformance suite needs of a store under test: the store,
 * built as its queue builds it, the changes it reported, and the two things
 * the backends do differently (how a result is handed over, how a claim is
 * taken over). test/store-conformance.test.ts makes one for each backend.
 */
import { randomUUID } from "node:crypto";
import { background } from "rapidai/background";
import type { ChangeSink } from "../../src/engine/change-sink.js";
import type { Change, ChangeKind } from "../../src/engine/changes.js";
import type { ClaimedJob, JobStore, ListQuery, NewJob } from "../../src/engine/store.js";
import { requireTask } from "../../src/registry.js";
import { until } from "../support/until.js";

export interface StoreUnderTest {
  readonly store: JobStore;
  /** Every change the store reported so far, in order (with Redis, as the relay brought them). */
  readonly changes: Change[];
  /** A result as a completed ending carries it (memory: the value; Redis: msgpack bytes). */
  result(value: unknown): unknown;
  /**
   * Takes the job of `claimed` over with a second claim (Redis: after its
   * lease expired; memory: after its attempt ended and it was claimed
   * again), so `claimed` is stale; resolves with the new claim.
   */
  takeOver(claimed: ClaimedJob): Promise<ClaimedJob>;
  close(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

/** A sink that records the changes a store reports, as the queue's would emit them. */
export function recordingSink(changes: Change[]): ChangeSink {
  return {
    change: (c) => changes.push(c),
    progress: () => {},
    paused: () => {},
    error: () => {},
    schedulesChanged: () => {},
    // Every change is wanted here: the store must report it.
    quiet: () => false,
    ended: () => {},
  };
}

/** The task of the store tests' jobs (never run: the tests play the runner). */
export const storeTask = background({ name: "store.job", maxRetries: 0 })(function job() {});

/** A new job as the engine hands it to a store, with the arguments encoded by that store. */
export function newJob(
  store: JobStore,
  id: string,
  o: Partial<Omit<NewJob, "args">> & { args?: unknown[] } = {},
): NewJob {
  const { args = [id], ...rest } = o;
  return {
    id,
    task: requireTask("store.job"),
    maxRetries: 0,
    priority: 0,
    delayMs: 0,
    timeoutMs: undefined,
    dedupe: undefined,
    dependsOn: undefined,
    ...rest,
    args: store.encodeArgs(args),
  };
}

export const ALL: ListQuery = { status: undefined, limit: 100, offset: 0, task: undefined };

/** The `n`-th change of `kind` the store reported for a job, once it arrived (n counts from 1). */
export function changeOf(
  s: StoreUnderTest,
  jobId: string,
  kind: ChangeKind,
  n = 1,
): Promise<Change> {
  return until(
    `change ${kind} #${n} of ${jobId}`,
    () => s.changes.filter((c) => c.jobId === jobId && c.kind === kind)[n - 1],
  );
}

/** Claims until the store hands out at least one job (a delayed job becomes due). */
export async function claimWhenDue(store: JobStore, n = 1, ms = 10_000): Promise<ClaimedJob[]> {
  return until(
    "a job to claim",
    async () => {
      const got = await store.claim(n);
      return got.length > 0 && got;
    },
    ms,
  );
}

/** One job inserted and claimed: its first attempt. */
export async function claimOne(s: StoreUnderTest, maxRetries = 0): Promise<ClaimedJob> {
  const jobId = randomUUID();
  await s.store.insert([newJob(s.store, jobId, { maxRetries })]);
  const [c] = await s.store.claim(1);
  if (c?.id !== jobId) throw new Error(`claimed ${c?.id} instead of ${jobId}`);
  return c;
}
