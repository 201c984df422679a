/**
 * Scenario: jobs that carry megabytes. Each job takes a Float64Array of
 * 64 KiB, 1 MiB or 4 MiB, makes one pass over it (scales it in place: the
 * least work a job on the data does) and returns it. A fixed number of jobs
 * stays in flight (4 per thread); each one's returned array goes straight
 * into the next job, so no contender pays for allocating fresh arrays.
 *
 * Ours with `move()` both ways, Piscina with a transfer list both ways
 * (`Piscina.move` for the result) and Piscina copying both ways run in one
 * process per size, batch after batch in turn, so they meet the same
 * background load. Ours without `move` runs in a process of its own: the
 * copies it makes and keeps would weigh on the others.
 */
import { Piscina } from "piscina";
import { InMemoryQueue, move, resetDefaultQueue } from "rapidai/background";
import { fmtBytes, fmtInt, fmtNum, fmtPct, fmtRate, fmtRatio, statusOf } from "../format.js";
import { interleave, rateOf } from "../stats.js";
import type { CaseResult, CaseSpec, SampleStats } from "../types.js";
import type { Scenario } from "./scenario.js";

const SIZES = [64 * 1024, 1024 * 1024, 4 * 1024 * 1024];

const CONTENDERS = {
  "rapidai-move": "rapidai InMemoryQueue, move() both ways",
  "piscina-transfer": "piscina.run() with transferList, Piscina.move back",
  "piscina-copy": "piscina.run(), copied both ways",
  "rapidai-copy": "rapidai InMemoryQueue, copied both ways",
} as const;
type ContenderId = keyof typeof CONTENDERS;

const SHARED_PROCESS: ContenderId[] = ["rapidai-move", "piscina-transfer", "piscina-copy"];

/**
 * Runs `n` jobs, one lane per array in flight; `submit` resolves with the
 * array the job handed back, which replaces the lane's own (moved away).
 */
async function windowed(
  n: number,
  arrays: Float64Array[],
  submit: (values: Float64Array) => Promise<Float64Array>,
): Promise<void> {
  let started = 0;
  const lane = async (lane: number): Promise<void> => {
    while (started < n) {
      started++;
      const back = await submit(arrays[lane]!);
      if (back.byteLength !== arrays[lane]!.byteLength && arrays[lane]!.byteLength !== 0)
        throw new Error(`a job handed back ${back.byteLength} bytes`);
      arrays[lane] = back;
    }
  };
  await Promise.all(arrays.map((_, i) => lane(i)));
}

interface Contender {
  submit(values: Float64Array): Promise<Float64Array>;
  close(): Promise<void>;
}

async function openContender(engine: ContenderId, threads: number): Promise<Contender> {
  if (engine.startsWith("piscina")) {
    const transfer = engine === "piscina-transfer";
    const pool = new Piscina({
      filename: new URL("../workers/pool-payload.js", import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
    });
    return {
      submit: (values) =>
        pool.run(
          { values, moveBack: transfer },
          transfer ? { transferList: [values.buffer as ArrayBuffer] } : {},
        ),
      close: () => pool.destroy(),
    };
  }
  const { payload } = await import("../tasks.js");
  resetDefaultQueue();
  // Finished jobs are not kept: each would hold its copied arguments and result.
  const queue = new InMemoryQueue({ threads, retention: { maxCount: 0 } });
  const moving = engine === "rapidai-move";
  const waiting = new Map<string, (values: Float64Array) => void>();
  queue.on("completed", (e) => {
    waiting.get(e.jobId)?.(e.result as Float64Array);
    waiting.delete(e.jobId);
  });
  queue.on("failed", (e) => {
    throw new Error(`payload job failed: ${e.error}`);
  });
  let next = 0;
  return {
    submit: (values) =>
      new Promise((resolve, reject) => {
        const jobId = `p${next++}`;
        waiting.set(jobId, resolve);
        queue.enqueue(jobId, payload, [moving ? move(values) : values, moving]).catch(reject);
      }),
    close: () => queue.close(),
  };
}

export const payload: Scenario = {
  id: "payload",
  title: "Payload: jobs carrying typed arrays",
  method:
    "Each job takes a Float64Array (64 KiB, 1 MiB, 4 MiB), makes one pass over it (scales it in place) " +
    "and returns it; 4 jobs per thread stay in flight and each returned array is the next job's argument. " +
    "Ours with move() both ways, Piscina with a transfer list both ways (Piscina.move for the result) and " +
    "Piscina copying both ways share one process per size and run batch after batch in turn; the first " +
    "rounds are warm-up, until each contender has run 2 s unmeasured (3 s in the full profile), then 8 " +
    "measured rounds (10 full); ours without move() runs alone. held ÷ in flight: the most ArrayBuffer memory the process " +
    "held while the contender ran (sampled every 8 jobs, minus what it held before) ÷ (jobs in flight × " +
    "array size): 0 means no copy beyond the arrays in flight, 1 one copy more of each.",

  plan({ profile, threads }) {
    return SIZES.flatMap((bytes): CaseSpec[] => {
      const params = { bytes, jobs: Math.round(profile.payload.bytesPerBatch / bytes), threads };
      return [
        {
          scenario: "payload",
          id: `shared-${bytes}`,
          label: "move vs Piscina",
          engine: SHARED_PROCESS.join(","),
          redis: false,
          params,
        },
        {
          scenario: "payload",
          id: `rapidai-copy-${bytes}`,
          label: CONTENDERS["rapidai-copy"],
          engine: "rapidai-copy",
          redis: false,
          params,
        },
      ];
    });
  },

  async run(spec, ctx) {
    const bytes = Number(spec.params.bytes);
    const jobs = Math.max(8, Number(spec.params.jobs));
    const window = 4 * ctx.threads;
    const ids = spec.engine.split(",") as ContenderId[];
    const contenders: Contender[] = [];
    for (const id of ids) contenders.push(await openContender(id, ctx.threads));
    const lanes = ids.map(() => Array.from({ length: window }, () => new Float64Array(bytes / 8)));
    const held = ids.map(() => 0);
    try {
      const durations = await interleave(
        ids.map((_, i) => async () => {
          const before = process.memoryUsage().arrayBuffers;
          let peak = before;
          let done = 0;
          await windowed(jobs, lanes[i]!, async (values) => {
            const back = await contenders[i]!.submit(values);
            if (++done % 8 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
            return back;
          });
          held[i] = Math.max(held[i]!, (peak - before) / (window * bytes));
        }),
        {
          rounds: ctx.profile.payload.rounds,
          warmup: 1,
          warmupMs: ctx.profile.payload.warmupMs,
          onRound: (done, total) => ctx.progress(done, total, "rounds"),
        },
      );
      for (const lane of lanes) {
        for (const a of lane) {
          if (a.byteLength !== bytes)
            throw new Error(`an array came back with ${a.byteLength} bytes`);
        }
      }
      const figures: Record<string, number> = {};
      const stats: Record<string, SampleStats> = {};
      for (const [i, id] of ids.entries()) {
        const rate = rateOf(jobs, durations[i]!);
        figures[`${id}:jobsPerSec`] = rate.perSecond;
        figures[`${id}:heldPerInFlight`] = held[i]!;
        stats[`${id}:jobsPerSec`] = rate.stats;
      }
      return { figures, stats };
    } finally {
      for (const c of contenders) await c.close();
    }
  },

  derive(results) {
    for (const size of SIZES) {
      const theirs = results.find((r) => r.id === `shared-${size}`)?.figures[
        "piscina-transfer:jobsPerSec"
      ];
      if (theirs === undefined) continue;
      for (const r of results.filter((x) => x.params.bytes === size)) {
        for (const id of Object.keys(CONTENDERS)) {
          const mine = r.figures[`${id}:jobsPerSec`];
          if (mine !== undefined) r.figures[`${id}:vsPiscinaTransfer`] = mine / theirs;
        }
      }
    }
  },

  table(results) {
    const rows: string[][] = [];
    const footnotes: string[] = [];
    for (const r of results) {
      for (const id of r.engine.split(",") as ContenderId[]) {
        const rate = r.figures[`${id}:jobsPerSec`];
        const bytes = Number(r.params.bytes);
        rows.push([
          CONTENDERS[id],
          fmtBytes(bytes),
          fmtInt(Number(r.params.jobs)),
          statusOf(r) ?? fmtRate(rate),
          fmtRate(rate === undefined ? undefined : (rate * bytes) / 2 ** 20),
          fmtRatio(r.figures[`${id}:vsPiscinaTransfer`]),
          fmtNum(r.figures[`${id}:heldPerInFlight`]),
        ]);
        const rme = r.stats?.[`${id}:jobsPerSec`]?.rme;
        if (rme !== undefined)
          footnotes.push(`${CONTENDERS[id]} (${fmtBytes(bytes)}): spread ${fmtPct(rme)}.`);
      }
    }
    return {
      headers: [
        "contender",
        "array",
        "jobs/batch",
        "jobs/s",
        "MiB/s",
        "÷ Piscina transferList",
        "held ÷ in flight",
      ],
      rows,
      footnotes,
    };
  },
};

/** ours-with-move ÷ Piscina-with-transferList jobs/s for one array size, when both were measured. */
export function payloadRatio(results: readonly CaseResult[], bytes: number): number | undefined {
  return results.find((r) => r.scenario === "payload" && r.id === `shared-${bytes}`)?.figures[
    "rapidai-move:vsPiscinaTransfer"
  ];
}
