import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { canTransition, type JobStatus, type StatusEvent } from "rapidai/background";
import { alwaysFail, failTimes, identity, sleep } from "../fixtures/core-tasks.js";
import { closeQueues, delay, openQueue } from "./helpers.js";

after(() => closeQueues());

/** What the reference model knows of one job. */
interface ModelJob {
  id: string;
  /** Where the job ends if nobody cancels it. */
  natural: { status: JobStatus; attempts?: number; result?: unknown };
  /** A cancel() call answered true: the job must end cancelled. */
  cancelled: boolean;
  /** A wait saw it finish: later cancels must answer false. */
  finished: boolean;
}
interface Model {
  jobs: ModelJob[];
}
interface Real {
  queue: ReturnType<typeof openQueue>;
}

const queue = openQueue({ threads: 2, cancelGraceMs: 100 });
const transitions = new Map<string, StatusEvent[]>();
queue.on("status", (e) => {
  const list = transitions.get(e.jobId) ?? [];
  list.push(e);
  transitions.set(e.jobId, list);
});

function expectedOf(job: ModelJob): ModelJob["natural"] {
  return job.cancelled ? { status: "cancelled" } : job.natural;
}

async function checkFinal(job: ModelJob, real: Real): Promise<void> {
  const r = await real.queue.waitFor(job.id, { timeoutMs: 20_000 });
  const want = expectedOf(job);
  assert.equal(r.status, want.status, `job ${job.id}: ${r.error ?? ""}`);
  if (want.attempts !== undefined) assert.equal(r.attempts, want.attempts, `attempts of ${job.id}`);
  if (want.status === "completed") assert.deepEqual(r.result, want.result);
}

class Enqueue implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly kind: "ok" | "fail" | "flaky" | "slow" | "delayed",
    readonly n: number,
  ) {}
  check() {
    return true;
  }
  async run(m: Model, r: Real) {
    const id = randomUUID();
    const job: ModelJob = {
      id,
      natural: { status: "completed" },
      cancelled: false,
      finished: false,
    };
    switch (this.kind) {
      case "ok":
        await r.queue.enqueue(id, identity, [this.n]);
        job.natural = { status: "completed", attempts: 1, result: this.n };
        break;
      case "fail": {
        const maxRetries = this.n % 2;
        await r.queue.enqueue(id, alwaysFail, ["model"], { maxRetries });
        job.natural = { status: "failed", attempts: maxRetries + 1 };
        break;
      }
      case "flaky":
        await r.queue.enqueue(id, failTimes, [1]);
        job.natural = { status: "completed", attempts: 2, result: 2 };
        break;
      case "slow":
        await r.queue.enqueue(id, sleep, [20 + (this.n % 60)]);
        job.natural = { status: "completed", attempts: 1, result: 20 + (this.n % 60) };
        break;
      case "delayed":
        await r.queue.enqueue(id, identity, [this.n], { delayMs: 10 + (this.n % 40) });
        job.natural = { status: "completed", attempts: 1, result: this.n };
        break;
    }
    m.jobs.push(job);
  }
  toString() {
    return `enqueue(${this.kind}, ${this.n})`;
  }
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>) {
    return m.jobs.length > 0;
  }
  async run(m: Model, r: Real) {
    const job = m.jobs[this.index % m.jobs.length]!;
    const answer = await r.queue.cancel(job.id);
    if (job.finished || job.cancelled)
      assert.equal(answer, false, "a finished job cannot be cancelled");
    if (answer) {
      job.cancelled = true;
      assert.equal((await r.queue.getResult(job.id))?.status, "cancelled");
    }
  }
  toString() {
    return `cancel(#${this.index})`;
  }
}

class Wait implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>) {
    return m.jobs.length > 0;
  }
  async run(m: Model, r: Real) {
    const job = m.jobs[this.index % m.jobs.length]!;
    await checkFinal(job, r);
    job.finished = true;
  }
  toString() {
    return `wait(#${this.index})`;
  }
}

class Tick implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check() {
    return true;
  }
  async run() {
    await delay(this.ms);
  }
  toString() {
    return `tick(${this.ms})`;
  }
}

const commands = [
  fc
    .tuple(fc.constantFrom("ok", "fail", "flaky", "slow", "delayed" as const), fc.nat(1000))
    .map(([kind, n]) => new Enqueue(kind, n)),
  fc.nat(50).map((i) => new Cancel(i)),
  fc.nat(50).map((i) => new Wait(i)),
  fc.integer({ min: 0, max: 20 }).map((ms) => new Tick(ms)),
];

describe("model-based: command sequences against a reference model", () => {
  it("makes only legal transitions and ends each job where the model says", async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
        const model: Model = { jobs: [] };
        const real: Real = { queue };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        for (const job of model.jobs) await checkFinal(job, real);
        for (const job of model.jobs) {
          const events = transitions.get(job.id) ?? [];
          assert.equal(events[0]?.from, null);
          assert.equal(events[0]?.to, "pending");
          for (let i = 1; i < events.length; i++) {
            const e = events[i]!;
            assert.equal(e.from, events[i - 1]!.to, `job ${job.id}: transitions chain`);
            assert.ok(canTransition(e.from!, e.to), `job ${job.id}: ${e.from} → ${e.to}`);
          }
          assert.equal(events.at(-1)?.to, expectedOf(job).status);
        }
      }),
      { numRuns: 20 },
    );
    const counts = await queue.countJobs();
    assert.equal(counts.pending + counts.running, 0, "nothing left pending or running");
  });
});
