/**
 * SIGKILL churn while schedules fire and a rate-limited task drains: three
 * `rapidai-jobs worker` processes on one Redis, one killed (and replaced)
 * every few seconds, run a 1 s schedule and a task limited to 5 starts a
 * second. Afterwards, from the store, the events and every attempt's
 * logged start: each tick's job enqueued once and completed once, a tick
 * missed only while no worker was up, and never more than 5 starts of the
 * limited task in any second. Scaled down by default; CHAOS_FULL=1 runs a
 * minute with a kill every 2 s.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { RedisQueue } from "rapidai/background";
import "../fixtures/schedule-churn-tasks.js";
import { describeWithRedis } from "../support/redis-server.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { FULL } from "./checker.js";
import { chaosScene } from "./scene.js";
import { classifyTicks, downtime, type Life, missBound, mostInWindow } from "./schedule-checks.js";

const TASKS = fileURLToPath(new URL("../fixtures/schedule-churn-tasks.js", import.meta.url));
const RUN_MS = FULL ? 60_000 : 20_000;
const KILL_EVERY_MS = FULL ? 2_000 : 3_000;
const EVERY_MS = 1_000;
const LIMITED_JOBS = FULL ? 200 : 80;
const RATE = { max: 5, intervalMs: 1_000 };
const WORKERS = 3;
const SCHEDULE = "beat";

const count = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeWithRedis("chaos: SIGKILL churn while schedules fire and a rate limit drains", () => {
  const scene = chaosScene({ appendonly: true });
  const { log, workers } = scene;

  it(`fires every tick once and keeps the limit (${RUN_MS / 1000} s of ${EVERY_MS} ms ticks, ${LIMITED_JOBS} limited jobs, ${WORKERS} workers, one killed every ${KILL_EVERY_MS} ms)`, {
    timeout: FULL ? 600_000 : 300_000,
  }, async () => {
    const prefix = `schedchurn:${randomUUID()}:`;
    const producer = new RedisQueue({ url: scene.server.url, prefix, process: false });
    const redis = new Redis(scene.server.url);
    const enqueued = new Map<string, number>();
    const completed = new Map<string, number>();
    const failed: string[] = [];
    producer.on("enqueued", (e) => count(enqueued, e.jobId));
    producer.on("completed", (e) => count(completed, e.jobId));
    producer.on("failed", (e) => failed.push(`${e.jobId}: ${e.error}`));
    // Every claim of a limited job, on the Redis server's clock (the claim
    // script's time, the one the limit is enforced on), attempts on killed
    // workers included.
    const claims = new Map<string, number>();
    producer.on("status", (e) => {
      if (e.task === "churn.limited" && e.to === "running")
        claims.set(`${e.jobId}#${e.attempts}`, e.at);
    });

    const lives = new Map<WorkerProcess, Life>();
    const killed = new Set<number>();
    const spawn = async () => {
      const w = await startWorker({
        url: scene.server.url,
        prefix,
        threads: 2,
        leaseMs: 1000,
        modules: [TASKS],
        env: { RAPIDAI_ATTEMPT_LOG: log.file },
      });
      workers.add(w);
      lives.set(w, { pid: w.pid, readyAt: Date.now(), endedAt: Number.POSITIVE_INFINITY });
    };
    try {
      // Events of the workers' scripts reach the producer once it listens.
      await producer.countJobs();
      await Promise.all(Array.from({ length: WORKERS }, spawn));

      // The schedule is stored once, in Redis; the workers' schedulers fire it.
      await producer.schedule(SCHEDULE, "churn.tick", { everyMs: EVERY_MS }, []);
      const [info] = await producer.listSchedules();
      const first = info!.nextRunAt.getTime();
      const owed = RUN_MS / EVERY_MS;
      const limitedIds = (
        await producer.enqueueMany(
          Array.from({ length: LIMITED_JOBS }, () => ({
            jobId: randomUUID(),
            task: "churn.limited",
            args: [300],
          })),
        )
      ).map(String);

      // Churn until the last owed tick is due.
      const stopAt = first + RUN_MS - EVERY_MS / 2;
      while (Date.now() + KILL_EVERY_MS < stopAt) {
        await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
        const live = [...workers];
        const victim = live[Math.floor(Math.random() * live.length)]!;
        workers.delete(victim);
        killed.add(victim.pid);
        victim.kill("SIGKILL");
        lives.get(victim)!.endedAt = Date.now();
        await victim.exited;
        await spawn();
      }

      // No more kills: every owed tick and limited job completes, and no
      // firing is left in flight (one won by a killed worker before its
      // enqueue is handed out again after the 30 s reclaim time).
      const owedIds = Array.from(
        { length: owed },
        (_, k) => `sched:${SCHEDULE}:${first + k * EVERY_MS}`,
      );
      await until("every owed tick and limited job to complete", 120_000, async () => {
        const inFlight = await redis.zcard(`${prefix}schedule-firings`);
        return (
          inFlight === 0 &&
          Date.now() > first + RUN_MS &&
          [...owedIds, ...limitedIds].every((id) => completed.has(id))
        );
      });
      await producer.unschedule(SCHEDULE);
      const end = Date.now();
      for (const l of lives.values()) l.endedAt = Math.min(l.endedAt, end);

      // Every tick job the store holds, with its creation time.
      const jobs = new Map<string, number>();
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(
          cursor,
          "MATCH",
          `${prefix}job:sched:*`,
          "COUNT",
          500,
        );
        cursor = next;
        for (const key of keys) {
          jobs.set(key.slice(`${prefix}job:`.length), Number(await redis.hget(key, "c")));
        }
      } while (cursor !== "0");

      // Attempts: a job ran again only after an attempt on a killed process.
      const attempts = log.attempts();
      const starts = attempts.filter((a) => a.phase === "start");
      const rerunOnLive = [...jobs.keys()].filter((id) => {
        const mine = starts.filter((a) => a.id === id);
        const final = Math.max(0, ...mine.map((a) => a.attempt));
        return mine.some((a) => a.attempt < final && !killed.has(a.pid));
      });
      const tickReruns = [...jobs.keys()].filter(
        (id) => starts.filter((a) => a.id === id).length > 1,
      ).length;
      const ticks = classifyTicks({
        scheduleId: SCHEDULE,
        first,
        everyMs: EVERY_MS,
        owed,
        jobs,
        enqueuedEvents: enqueued,
        completedEvents: completed,
        rerunOnLive,
      });
      const gaps = downtime([...lives.values()], first, first + RUN_MS);
      const owedTicks = Array.from({ length: owed }, (_, k) => first + k * EVERY_MS);
      const bound = missBound(gaps, owedTicks);

      // The limit, on the clock that enforces it: every claim's.
      const results = await Promise.all(limitedIds.map((id) => producer.getResult(id)));
      const byClaim = mostInWindow([...claims.values()], RATE.intervalMs);
      // And on every logged start, on the thread's clock. Each start must
      // follow a claim of its own (none bypasses the limiter); it comes
      // after it by the dispatch latency (a fresh worker's first job waits
      // for its thread and the task module's import), so the windows the
      // starts keep shrink by that latency's spread, measured start by start.
      const limitedSet = new Set(limitedIds);
      const logged = starts.filter((a) => limitedSet.has(a.id));
      const unclaimed = logged.filter((a) => !claims.has(`${a.id}#${a.attempt}`));
      const lag = logged
        .filter((a) => claims.has(`${a.id}#${a.attempt}`))
        .map((a) => a.at - claims.get(`${a.id}#${a.attempt}`)!);
      const jitter = Math.max(...lag) - Math.min(...lag);
      const byStart = mostInWindow(
        logged.map((a) => a.at),
        RATE.intervalMs - jitter,
      );
      const rawByStart = mostInWindow(
        logged.map((a) => a.at),
        RATE.intervalMs,
      );

      console.log(
        `chaos schedule churn: ticks expected ${ticks.expected}, fired ${ticks.fired}, ` +
          `doubled ${ticks.doubled.length}, missed ${ticks.missed.length} (bound ${bound}: ` +
          `${gaps.length} stretches without a worker), off grid ${ticks.offGrid.length}, ` +
          `${jobs.size} tick jobs in all (${tickReruns} re-run), latest ${ticks.maxLateMs} ms after its tick; ` +
          `limited: ${LIMITED_JOBS} jobs, ${claims.size} claims, ${logged.length} starts, max per ${RATE.intervalMs} ms ` +
          `by claim ${byClaim}, by logged start ${byStart} (window ${RATE.intervalMs - jitter} ms, ` +
          `dispatch lag ${Math.min(...lag)}..${Math.max(...lag)} ms), raw ${rawByStart}; ` +
          `${killed.size} workers killed, ${failed.length} failed`,
      );
      assert.deepEqual(failed, [], "no job failed");
      assert.deepEqual(ticks.doubled, [], "no tick doubled");
      assert.deepEqual(ticks.offGrid, [], "every tick job on the schedule's grid");
      assert.ok(ticks.missed.length <= bound, `missed ${ticks.missed} beyond the bound ${bound}`);
      assert.equal(ticks.fired + ticks.missed.length, ticks.expected);
      for (const id of owedIds.filter((i) => jobs.has(i))) {
        assert.equal(enqueued.get(id), 1, `${id} enqueued once`);
        assert.equal(completed.get(id), 1, `${id} completed once`);
      }
      assert.ok(
        results.every((r) => r?.status === "completed"),
        "every limited job completed",
      );
      assert.ok(byClaim <= RATE.max, `${byClaim} claims in one window`);
      assert.deepEqual(unclaimed, [], "every start follows a claim of its own");
      assert.ok(Math.min(...lag) >= -1, "no start before its claim (1 ms of clock rounding)");
      // A spread of a whole interval would leave nothing to check.
      assert.ok(jitter < RATE.intervalMs, `dispatch lag spread ${jitter} ms`);
      assert.ok(byStart <= RATE.max, `${byStart} logged starts in one window`);
    } finally {
      redis.disconnect();
      await producer.close();
    }
  });
});
