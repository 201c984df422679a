import { InMemoryQueue, move } from "rapidai/background";
import { Piscina } from "piscina";
const { payload } = await import("/work/wt/compute/dist/bench/tasks.js");
const queue = new InMemoryQueue({ threads: 2, retention: { maxCount: 0 } });
const pool = new Piscina({ filename: "/work/wt/compute/dist/bench/workers/pool-payload.js", minThreads: 2, maxThreads: 2 });
const waiting = new Map();
queue.on("completed", (e) => { waiting.get(e.jobId)(e.result); waiting.delete(e.jobId); });
let next = 0;
const ours = (v) => new Promise((res) => { const id = `p${next++}`; waiting.set(id, res); queue.enqueue(id, payload, [move(v), true]); });
const theirs = (v) => pool.run({ values: v, moveBack: true }, { transferList: [v.buffer] });
const size = Number(process.argv[2] ?? (1 << 17));
async function batch(submit) {
  const lanes = Array.from({ length: 8 }, () => new Float64Array(size));
  let started = 0; const N = 1000;
  const t = performance.now();
  await Promise.all(lanes.map(async (v) => { while (started++ < N) { v = await submit(v); } }));
  return N / ((performance.now() - t) / 1000);
}
for (let round = 0; round < 10; round++) {
  const a = await batch(ours), b = await batch(theirs);
  console.log("ours", a.toFixed(0), "piscina", b.toFixed(0), "ratio", (a / b).toFixed(2));
}
await queue.close(); await pool.destroy();
