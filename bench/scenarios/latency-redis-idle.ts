/**
 * The part of the latency scenario that decides the Redis idle target: our
 * RedisQueue and BullMQ in-process, one job at a time, in rounds taken in
 * turn (each round starting with the other engine), each engine in a
 * process of its own against the case's one redis-server. An engine's p50
 * is over all its jobs of every round.
 *
 * Why: the Redis server's speed on this VM moves by a third from hour to
 * hour (Redis CPU per job, ours and BullMQ's alike), and the two engines'
 * own cases run minutes apart; the same build gave 0.92×, 1.16×, 1.45× and
 * 1.11× in four runs of one day.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { fmtInt, fmtMs, fmtNum } from "../format.js";
import { SETTLE_MS } from "../latency-load.js";
import { openSides, type Side, turnOrder } from "../latency-sides.js";
import type { Profile } from "../profile.js";
import { summarize } from "../stats.js";
import type { CaseResult, CaseSpec } from "../types.js";
import type { CaseOutput, RunContext } from "./scenario.js";

export const REDIS_IDLE_ID = "redis-vs-bullmq-idle";

const SIDES = [
  { key: "ours", engine: "rapidai-redis", label: "rapidai RedisQueue" },
  { key: "bullmq", engine: "bullmq", label: "BullMQ in-process" },
] as const;

export function redisIdleCase(profile: Profile, threads: number): CaseSpec {
  const rounds = profile.latency.idleRounds;
  return {
    scenario: "latency",
    id: REDIS_IDLE_ID,
    label: "rapidai RedisQueue and BullMQ in-process, idle, in turn",
    engine: REDIS_IDLE_ID,
    redis: true,
    params: { rounds, jobsPerRound: Math.ceil(profile.latency.idleJobs / rounds), threads },
  };
}

export async function runRedisIdle(spec: CaseSpec, ctx: RunContext): Promise<CaseOutput> {
  const rounds = Number(spec.params.rounds);
  const jobs = Number(spec.params.jobsPerRound);
  const sides: Side[] = [];
  try {
    await openSides(sides, SIDES, ctx.threads, ctx.redisUrl);
    for (const s of sides) await s.ask({ kind: "warm" });
    const samples = SIDES.map((): number[] => []);
    const roundP50s = SIDES.map((): number[] => []);
    for (let round = 0; round < rounds; round++) {
      ctx.progress(round, rounds, "rounds");
      for (const side of turnOrder(round)) {
        const r = await sides[side]!.ask({ kind: "idle", jobs });
        samples[side]!.push(...(r.samples ?? []));
        roundP50s[side]!.push(r.p50);
        await sleep(SETTLE_MS);
      }
    }
    ctx.progress(rounds, rounds, "done");
    const figures: Record<string, number> = { rounds, jobsPerRound: jobs };
    for (const [side, { key }] of SIDES.entries()) {
      const all = summarize(samples[side]!);
      figures[`${key}IdleDoneP50Ms`] = all.p50;
      figures[`${key}IdleDoneP99Ms`] = all.p99;
      figures[`${key}Jobs`] = all.count;
      figures[`${key}RoundP50MinMs`] = Math.min(...roundP50s[side]!);
      figures[`${key}RoundP50MaxMs`] = Math.max(...roundP50s[side]!);
    }
    return { figures };
  } finally {
    await Promise.all(sides.map((s) => s.close()));
  }
}

/** The table rows of the case: one per engine. */
export function redisIdleRows(r: CaseResult): string[][] {
  const f = r.figures;
  return SIDES.map(({ key, label }) => [
    `${label}, in turn`,
    `idle, one at a time: ${fmtInt(f.rounds)} rounds of ${fmtInt(f.jobsPerRound)} jobs, ` +
      `rounds' p50 ${fmtNum(f[`${key}RoundP50MinMs`])}–${fmtNum(f[`${key}RoundP50MaxMs`])} ms`,
    fmtInt(f[`${key}Jobs`]),
    "–",
    "–",
    fmtMs(f[`${key}IdleDoneP50Ms`]),
    fmtMs(f[`${key}IdleDoneP99Ms`]),
  ]);
}
