/**
 * Where an idle job's time goes, ours against Piscina: one no-op job at a
 * time, each phase stamped on the clock every thread shares (the job
 * returns the moment it ran on its thread). A probe for finding the gap,
 * not a target: `node dist/bench/idle-phases.js [jobs]`.
 */
import { createRequire } from "node:module";
import { InMemoryQueue } from "rapidai/background";
import "./tasks.js";

const require = createRequire(import.meta.url);
const { Piscina } = require("piscina") as typeof import("piscina");
const now = () => performance.timeOrigin + performance.now();
const JOBS = Number(process.argv[2] ?? 1000);
const WARM = 100;

type Phases = Record<string, number[]>;
const pause = () => new Promise((r) => setTimeout(r, 1));

function report(engine: string, phases: Phases): void {
  for (const [name, values] of Object.entries(phases)) {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (p: number) =>
      `${Math.round(sorted[Math.floor(p * (sorted.length - 1))]! * 1000)} µs`;
    console.log(
      `${engine.padEnd(8)} ${name.padEnd(26)} p50 ${at(0.5).padStart(7)}  p90 ${at(0.9).padStart(7)}`,
    );
  }
}

async function ours(): Promise<Phases> {
  const phases: Phases = {
    "enqueue → pool.run()": [],
    "enqueue → job runs": [],
    "enqueue → completed event": [],
  };
  let poolRun = 0;
  const run = Piscina.prototype.run;
  Piscina.prototype.run = function (
    this: InstanceType<typeof Piscina>,
    ...a: Parameters<typeof run>
  ) {
    poolRun = now();
    return run.apply(this, a);
  };
  const queue = new InMemoryQueue({ threads: 2 });
  let ended: (ran: number) => void = () => {};
  queue.on("completed", (e) => ended(e.result as number));
  for (let i = 0; i < JOBS + WARM; i++) {
    const done = new Promise<number>((r) => (ended = r));
    const t0 = now();
    await queue.enqueue(`idle-${i}`, "bench.stamp", []);
    const ran = await done;
    const t1 = now();
    if (i >= WARM) {
      phases["enqueue → pool.run()"]!.push(poolRun - t0);
      phases["enqueue → job runs"]!.push(ran - t0);
      phases["enqueue → completed event"]!.push(t1 - t0);
    }
    await pause();
  }
  await queue.close();
  Piscina.prototype.run = run;
  return phases;
}

async function piscina(): Promise<Phases> {
  const phases: Phases = { "run() → job runs": [], "run() → promise resolved": [] };
  const pool = new Piscina({
    filename: new URL("./workers/pool-stamp.js", import.meta.url).href,
    minThreads: 2,
    maxThreads: 2,
  });
  for (let i = 0; i < JOBS + WARM; i++) {
    const t0 = now();
    const ran = (await pool.run(null)) as number;
    const t1 = now();
    if (i >= WARM) {
      phases["run() → job runs"]!.push(ran - t0);
      phases["run() → promise resolved"]!.push(t1 - t0);
    }
    await pause();
  }
  await pool.destroy();
  return phases;
}

report("rapidai", await ours());
report("piscina", await piscina());
