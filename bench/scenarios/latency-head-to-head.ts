/**
 * The part of the latency scenario that decides its target: our
 * InMemoryQueue and Piscina offered the same rates (shares of Piscina's
 * throughput), point by point in turn, round after round. An
 * engine's figure at a rate is its median over the rounds.
 *
 * Why not the two engines' own cases: on this kind of VM the same engine at
 * the same rate gives a p99 several times apart from one second to the next
 * (Piscina at 4,000 jobs/s: 1.79, 19.6 and 9.46 ms in three points a few
 * seconds apart), and each case runs in its own process, minutes from the
 * other. A ratio of two such points says more about the VM's moment than
 * about the engines. In turn, each pair of points meets the same moment.
 * Each engine still runs in a process of its own (bench/latency-side.ts),
 * idle while the other runs: in one process, the finished jobs our queue
 * keeps (100,000 by default) would lengthen the collections Piscina's
 * points meet.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { fmtInt, fmtMs, fmtNum } from "../format.js";
import { fellBehind, SETTLE_MS } from "../latency-load.js";
import { openSides, type Side, turnOrder } from "../latency-sides.js";
import type { Profile } from "../profile.js";
import { median } from "../stats.js";
import type { CaseResult, CaseSpec } from "../types.js";
import type { CaseOutput, RunContext } from "./scenario.js";

export const HEAD_TO_HEAD_ID = "memory-vs-piscina";

const SIDES = [
  { key: "ours", engine: "rapidai-memory", label: "rapidai InMemoryQueue" },
  { key: "piscina", engine: "piscina", label: "piscina.run() (raw pool)" },
] as const;

/**
 * Unmeasured load at the lowest rate for each engine before the first
 * round: more than the own cases' second, since both engines' code must be
 * optimised before the rounds start, not during the first of them.
 */
const WARMUP_MS = 2_000;

/** The head-to-head case: Piscina's shares, `of` naming whose throughput they are shares of. */
export function headToHeadCase(
  points: readonly { rate: number; fraction: number }[],
  of: string,
  profile: Profile,
  threads: number,
): CaseSpec {
  return {
    scenario: "latency",
    id: HEAD_TO_HEAD_ID,
    label: "rapidai InMemoryQueue and piscina.run(), in turn",
    engine: HEAD_TO_HEAD_ID,
    redis: false,
    params: {
      loadMs: profile.latency.loadMs,
      rounds: profile.latency.rounds,
      rates: points.map((p) => p.rate).join(","),
      fractions: points.map((p) => p.fraction).join(","),
      of,
      threads,
    },
  };
}

/** One engine's figures at one rate, a value per round. */
interface Runs {
  p50: number[];
  p99: number[];
}

export async function runHeadToHead(spec: CaseSpec, ctx: RunContext): Promise<CaseOutput> {
  const rates = String(spec.params.rates).split(",").map(Number);
  const fractions = String(spec.params.fractions).split(",").map(Number);
  const rounds = Number(spec.params.rounds);
  const loadMs = Number(spec.params.loadMs);
  const subjects: Side[] = [];
  try {
    await openSides(subjects, SIDES, ctx.threads, undefined);
    const total = rounds * rates.length * SIDES.length;
    for (const s of subjects) {
      await s.ask({ kind: "warm" });
      await s.ask({ kind: "load", rate: rates[0]!, ms: WARMUP_MS });
      await sleep(SETTLE_MS);
    }
    const runs = SIDES.map(() => rates.map((): Runs => ({ p50: [], p99: [] })));
    const notes: string[] = [];
    let done = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [i, rate] of rates.entries()) {
        for (const side of turnOrder(round)) {
          ctx.progress(done++, total, `${SIDES[side]!.key} at ${rate} jobs/s`);
          const r = await subjects[side]!.ask({ kind: "load", rate, ms: loadMs });
          runs[side]![i]!.p50.push(r.p50);
          runs[side]![i]!.p99.push(r.p99);
          if (fellBehind(r.backlogMs, loadMs)) {
            notes.push(
              `${SIDES[side]!.label} at ${fmtInt(rate)} jobs/s, round ${round + 1}, fell behind: ` +
                `the last job was done ${Math.round(r.backlogMs)} ms after the last submit`,
            );
          }
          await sleep(SETTLE_MS);
        }
      }
    }
    ctx.progress(total, total, "done");
    const figures: Record<string, number> = {};
    for (const [i, rate] of rates.entries()) {
      const k = `h${i}:`;
      figures[`${k}offeredRate`] = rate;
      figures[`${k}fraction`] = fractions[i]!;
      figures[`${k}rounds`] = rounds;
      figures[`${k}jobs`] = Math.max(1, Math.round((rate * loadMs) / 1000));
      for (const [side, { key }] of SIDES.entries()) {
        const r = runs[side]![i]!;
        figures[`${k}${key}DoneP50Ms`] = median(r.p50);
        figures[`${k}${key}DoneP99Ms`] = median(r.p99);
        figures[`${k}${key}DoneP99MinMs`] = Math.min(...r.p99);
        figures[`${k}${key}DoneP99MaxMs`] = Math.max(...r.p99);
      }
    }
    return { figures, ...(notes.length > 0 ? { notes } : {}) };
  } finally {
    await Promise.all(subjects.map((s) => s.close()));
  }
}

/** How many rates a head-to-head result holds. */
export function rateCount(r: CaseResult): number {
  let n = 0;
  while (r.figures[`h${n}:offeredRate`] !== undefined) n++;
  return n;
}

/** Both engines' medians at the i-th rate: →done p99, ms. */
export function headToHeadP99(
  r: CaseResult,
  i: number,
): { rate: number; fraction: number; ours: number; piscina: number } | undefined {
  const f = r.figures;
  const k = `h${i}:`;
  const rate = f[`${k}offeredRate`];
  const ours = f[`${k}oursDoneP99Ms`];
  const piscina = f[`${k}piscinaDoneP99Ms`];
  if (rate === undefined || ours === undefined || piscina === undefined) return undefined;
  return { rate, fraction: f[`${k}fraction`]!, ours, piscina };
}

/** The table rows of a head-to-head result: per rate, one row per engine. */
export function headToHeadRows(r: CaseResult): string[][] {
  const rows: string[][] = [];
  const f = r.figures;
  for (let i = 0; i < rateCount(r); i++) {
    const k = `h${i}:`;
    for (const { key, label } of SIDES) {
      const share = `${Math.round(f[`${k}fraction`]! * 100)} % of ${r.params.of} throughput`;
      const range = `${fmtNum(f[`${k}${key}DoneP99MinMs`])}–${fmtNum(f[`${k}${key}DoneP99MaxMs`])} ms`;
      rows.push([
        `${label}, in turn`,
        `${fmtInt(f[`${k}offeredRate`])} jobs/s (${share}); median of ${fmtInt(f[`${k}rounds`])} runs, p99 range ${range}`,
        fmtInt(f[`${k}jobs`]),
        "–",
        "–",
        fmtMs(f[`${k}${key}DoneP50Ms`]),
        fmtMs(f[`${k}${key}DoneP99Ms`]),
      ]);
    }
  }
  return rows;
}
