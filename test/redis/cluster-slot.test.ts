/**
 * Every key a queue touches lives under its prefix, and a prefix with a
 * {hash tag} keeps them all in one Redis Cluster slot (the scripts build
 * job keys from the prefix, so this is what makes them cluster-safe). Seen
 * with MONITOR, which also shows the commands the Lua scripts run.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, RedisQueue } from "rapidai/background";
import "../fixtures/conformance-tasks.js";
import { ScriptedWorker } from "../support/redis-scripts.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

const calculateSlot = createRequire(import.meta.url)("cluster-key-slot") as (key: string) => number;
const KEYLESS = new Set([
  "publish",
  "time",
  "ping",
  "client",
  "info",
  "config",
  "subscribe",
  "unsubscribe",
  "select",
  "hello",
  "auth",
  "quit",
  "script",
  "monitor",
]);

describeWithRedis("keys of a Redis queue", () => {
  const redis = redisFixture();

  /** Runs every kind of operation on a queue under `prefix`; returns every key and channel used. */
  async function touched(prefix: string): Promise<{ keys: Set<string>; channels: Set<string> }> {
    const base = new Redis(redis.server.url);
    const monitor = await base.monitor();
    const commands: string[][] = [];
    monitor.on("monitor", (_t: string, args: string[]) => commands.push(args));
    const q = new RedisQueue({
      url: redis.server.url,
      prefix,
      threads: 1,
      leaseMs: 300,
      checkIntervalMs: 50,
      retention: { maxCount: 1, maxAgeMs: 60_000 },
      logger: { warn() {} },
    });
    try {
      q.on("status", () => {});
      const wait = (id: string) => q.waitFor(id, { timeoutMs: 10_000 });
      await wait(await q.enqueue(randomUUID(), "conf.add", [1, 2]));
      await wait(await q.enqueue(randomUUID(), "conf.flaky", [1]));
      await wait(await q.enqueue(randomUUID(), "conf.halfway", []));
      await wait(await q.enqueue(randomUUID(), "conf.fail", ["x"]));
      await wait(await q.enqueue(randomUUID(), "conf.add", [1, 2], { delayMs: 50 }));
      await wait(
        (
          await q.enqueueMany([
            { jobId: randomUUID(), task: "conf.add", args: [3, 4], options: { priority: 2 } },
          ])
        )[0]!,
      );
      const pending = await q.enqueue(randomUUID(), "conf.add", [1, 2], { delayMs: 60_000 });
      await q.cancel(pending);
      const running = await q.enqueue(randomUUID(), "conf.sleep", [30_000]);
      for (let i = 0; i < 200 && (await q.getResult(running))?.progress !== "started"; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await q.cancel(running);
      // A job claimed by a worker that then "dies": its lease expires.
      const producer = new RedisQueue({ url: redis.server.url, prefix, process: false });
      const lost = await producer.enqueue(randomUUID(), "conf.add", [1, 2], { delayMs: 60_000 });
      await redis.raw.zadd(`${prefix}delayed`, 0, lost);
      const dead = new ScriptedWorker(redis.server.url, prefix, "dead");
      await dead.claim(5, 50);
      dead.close();
      await wait(lost);
      await producer.close();
      await q.listJobs();
      await q.listJobs("completed", { limit: 1, task: "conf.add" });
      await q.countJobs();
      await q.getResult(lost);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await q.close();
      monitor.disconnect();
      base.disconnect();
    }
    const keys = new Set<string>();
    const channels = new Set<string>();
    for (const args of commands) {
      const name = args[0]!.toLowerCase();
      if (name === "publish") channels.add(args[1]!);
      else if (name === "subscribe") for (const c of args.slice(1)) channels.add(c);
      if (KEYLESS.has(name)) continue;
      let found: string[] = [];
      try {
        found = (await redis.raw.call("COMMAND", "GETKEYS", ...args)) as string[];
      } catch (error) {
        if (!/no key arguments|Invalid arguments|wrong number of arguments/i.test(String(error)))
          throw new Error(`${args.join(" ")}: ${String(error)}`);
      }
      for (const k of found) keys.add(k);
    }
    return { keys, channels };
  }

  it("stay under the prefix and in one cluster slot when the prefix has a {hash tag}", async () => {
    const prefix = `{app-${randomUUID().slice(0, 8)}}:jobs:`;
    const { keys, channels } = await touched(prefix);
    assert.ok(keys.size >= 10, `saw the queue's keys (${keys.size})`);
    for (const k of keys) assert.ok(k.startsWith(prefix), `${k} is under the prefix`);
    for (const c of channels) assert.ok(c.startsWith(prefix), `channel ${c} is under the prefix`);
    const slots = new Set([...keys].map(calculateSlot));
    assert.equal(slots.size, 1, `one slot for ${keys.size} keys`);
    assert.equal([...slots][0], calculateSlot(prefix));
  });

  it("spread over many slots without a hash tag, which is why a cluster needs one", async () => {
    const { keys } = await touched(`plain-${randomUUID().slice(0, 8)}:`);
    assert.ok(new Set([...keys].map(calculateSlot)).size > 1);
  });

  it("rejects an empty, non-string, spaced or unclosed-tag prefix with a coded error", () => {
    for (const prefix of ["", 42, "has space:", "{open:", "{}:empty:"]) {
      assert.throws(
        () => new RedisQueue({ prefix: prefix as string }),
        (e) =>
          (e as { code?: string }).code === ErrorCode.INVALID_OPTION &&
          /prefix/.test((e as Error).message),
      );
    }
  });
});
