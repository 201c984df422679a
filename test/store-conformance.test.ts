/**
 * The store conformance suite against both stores, each built as its queue
 * builds it: the memory store with a timer queue, the Redis store on a
 * private redis-server (a fresh key prefix per test) with its events
 * relayed to a recording sink.
 */
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import { encodeMsgpack } from "../src/codec.js";
import type { Change } from "../src/engine/changes.js";
import type { ClaimedJob } from "../src/engine/store.js";
import { MemoryStore } from "../src/memory/memory-store.js";
import { parseRedisOptions } from "../src/redis/redis-options.js";
import { RedisStore } from "../src/redis/redis-store.js";
import { TimerQueue } from "../src/timer-queue.js";
import { storeConformance } from "./conformance/store-conformance.js";
import { claimWhenDue, recordingSink } from "./conformance/store-harness.js";
import { describeWithRedis, type RedisHandle, startRedis } from "./support/redis-server.js";
import { until } from "./support/until.js";

const quiet = { warn() {} };

storeConformance("MemoryStore", async () => {
  const changes: Change[] = [];
  const timers = new TimerQueue();
  const store = new MemoryStore(
    {
      maxAgeMs: 86_400_000,
      maxCount: 100_000,
      maxPayloadBytes: 16 * 1024 * 1024,
      maxLogLines: 1_000,
      logger: quiet,
    },
    recordingSink(changes),
    timers,
  );
  return {
    store,
    changes,
    result: (value) => value,
    // The attempt ends (a retry at once) and the job is claimed again: the
    // first claim's attempt number is stale.
    async takeOver(claimed: ClaimedJob) {
      const error = { name: "Error", message: "taken over" };
      store.settle([{ job: claimed, kind: "retry", error, delayMs: 0, durationMs: 1 }]);
      const [again] = store.claim(1);
      if (again === undefined) throw new Error("nothing to claim again");
      return again;
    },
    async close() {
      await store.close();
      timers.clear();
    },
  };
});

describeWithRedis("RedisStore", () => {
  let server: RedisHandle | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => server?.stop());

  storeConformance("RedisStore", async () => {
    const changes: Change[] = [];
    const o = parseRedisOptions({
      url: server!.url,
      prefix: `store:${randomUUID()}:`,
      leaseMs: 100,
      logger: quiet,
    });
    const store = new RedisStore(o, recordingSink(changes));
    // Every change record (the status event's kinds) is relayed from here on.
    await store.listen(["status"]);
    const k = o.keys;
    return {
      store,
      changes,
      result: (value) => (value === undefined ? "" : encodeMsgpack(value).toString("latin1")),
      // The claim's lease (100 ms) expires: the upkeep's script sends the
      // job back (its retry budget allows one more attempt), and a second
      // claim takes it.
      async takeOver(claimed: ClaimedJob) {
        await until(`the lease of ${claimed.id} to expire`, async () => {
          const reply = (await store.link.scripts.run(
            "expireLeases",
            [k.leases, k.ready, k.pending, k.failed, k.cancelled, k.done, k.delayed],
            [500],
          )) as number[];
          return reply[0]! > 0;
        });
        const [again] = await claimWhenDue(store);
        return again!;
      },
      async close() {
        await store.close();
      },
    };
  });
});
