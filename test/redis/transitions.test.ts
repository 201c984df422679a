/**
 * The Lua scripts mirror the state machine of src/state-machine.ts: the
 * table in the scripts equals TRANSITIONS, and every script applies only
 * the transitions it lists, leaving a job in any other state untouched.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import {
  canTransition,
  JOB_STATUSES,
  type JobStatus,
  RedisQueue,
  TRANSITIONS,
} from "rapidai/background";
import { INCLUDES } from "../../src/redis/embedded-scripts.js";
import { RedisOperations } from "../../src/redis/operations.js";
import "../fixtures/redis-tasks.js";
import { type ClaimedJob, pendingIndexed, ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

type Op =
  | "claim"
  | "complete"
  | "fail"
  | "retry"
  | "stop"
  | "cancel"
  | "expire"
  | "handBack"
  | "retryByHand";
const OPS: Op[] = [
  "claim",
  "complete",
  "fail",
  "retry",
  "stop",
  "cancel",
  "expire",
  "handBack",
  "retryByHand",
];
/** The states each script moves a job out of (cancel of a running job only records the request). */
const APPLIES_TO: Record<Op, JobStatus[]> = {
  claim: ["pending"],
  cancel: ["pending"],
  complete: ["running"],
  fail: ["running"],
  retry: ["running"],
  stop: ["running"],
  expire: ["running"],
  handBack: ["running"],
  retryByHand: ["failed", "cancelled"],
};

describeWithRedis("the Lua scripts and the state machine", () => {
  const redis = redisFixture();

  it("hold the same table of legal transitions as TRANSITIONS", async () => {
    const lua = `${INCLUDES["base.lua"]}
      local out = {}
      for from, tos in pairs(LEGAL) do
        out[#out + 1] = from .. '>'
        for to in pairs(tos) do out[#out + 1] = from .. '>' .. to end
      end
      return out`;
    const pairs = (await redis.raw.eval(lua, 0, "p:")) as string[];
    const fromLua = new Set(pairs.filter((p) => !p.endsWith(">")));
    const fromTs = new Set(JOB_STATUSES.flatMap((f) => TRANSITIONS[f].map((t) => `${f}>${t}`)));
    assert.deepEqual([...fromLua].sort(), [...fromTs].sort());
    assert.deepEqual(
      pairs.filter((p) => p.endsWith(">")).sort(),
      JOB_STATUSES.map((s) => `${s}>`).sort(),
    );
  });

  it("apply only legal transitions, from every state, and leave the job alone otherwise", async () => {
    const prefix = `sm:${randomUUID()}:`;
    const producer = new RedisQueue({ url: redis.server.url, prefix, process: false });
    const w = new ScriptedWorker(redis.server.url, prefix, "w");
    const ops = new RedisOperations(w.scripts, w.client, w.keys);
    const seen = new Set<string>();
    try {
      // A job in `state`, with the lease token its holder would use.
      const make = async (state: JobStatus): Promise<ClaimedJob> => {
        const id = await producer.enqueue(randomUUID(), "rq.pid", [], { maxRetries: 5 });
        if (state === "pending") return { id, attempt: 1, token: "w:1" };
        const [job] = await w.claim(1, 60_000);
        assert.equal(job?.id, id);
        if (state === "completed") await w.complete([job!]);
        if (state === "failed") await w.fail([job!], "f");
        if (state === "cancelled") {
          await w.cancel(id);
          await w.fail([job!], "c");
        }
        assert.equal(await w.status(id), state);
        return job!;
      };
      const apply = async (op: Op, job: ClaimedJob): Promise<void> => {
        const k = w.keys;
        const q = await redis.raw.hget(k.job(job.id), "q");
        switch (op) {
          case "claim":
            // A stale ready entry must not revive a job that is not pending.
            await redis.raw.zadd(k.ready, -1000, `${q!.padStart(16, "0")}${job.id}`);
            await w.claim(1, 60_000);
            break;
          case "complete":
            await w.complete([job]);
            break;
          case "fail":
            await w.fail([job], "f");
            break;
          case "retry":
            await w.fail([job], "r");
            break;
          case "stop":
            await w.fail([job], "c");
            break;
          case "cancel":
            await w.cancel(job.id);
            break;
          case "expire":
            await redis.raw.zadd(k.leases, 1, job.id);
            await w.expire();
            break;
          case "handBack":
            await w.handBack([job]);
            break;
          case "retryByHand":
            await ops.retry(job.id);
            break;
        }
      };
      for (const from of JOB_STATUSES) {
        for (const op of OPS) {
          const job = await make(from);
          await apply(op, job);
          const to = (await w.status(job.id)) as JobStatus;
          if (to !== from) {
            assert.ok(
              canTransition(from, to),
              `${op} moved a ${from} job to ${to}, which TRANSITIONS forbids`,
            );
            seen.add(`${from}>${to}`);
          }
          assert.equal(
            to !== from,
            APPLIES_TO[op].includes(from),
            `${op} on a ${from} job (now ${to})`,
          );
          // Whatever happened, the job sits in exactly the index of its status.
          const k = w.keys;
          const where = await Promise.all(
            k.statuses.map(async (key) =>
              key === k.pending
                ? pendingIndexed(redis.raw, k, job.id)
                : (await redis.raw.zscore(key, job.id)) !== null,
            ),
          );
          assert.deepEqual(
            where,
            JOB_STATUSES.map((s) => s === to),
            `${op} on a ${from} job: indexes match status ${to}`,
          );
          // Clear leftovers so the next claim takes the next job.
          await redis.raw.del(k.ready, k.fifo, k.fifoStale);
        }
      }
      // Every legal transition is produced by some script, except pending → failed:
      // a Redis worker fails a job it cannot run only after claiming it.
      const legal = JOB_STATUSES.flatMap((f) => TRANSITIONS[f].map((t) => `${f}>${t}`));
      assert.deepEqual(
        legal.filter((t) => !seen.has(t)),
        ["pending>failed"],
      );
    } finally {
      w.close();
      await producer.close();
    }
  });
});
