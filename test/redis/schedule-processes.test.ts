import assert from "node:assert/strict";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/schedule-process.js", import.meta.url));
/** Ticks each schedule must fire while the three processes run. */
const TICKS = 20;

interface Line {
  pid: number;
  jobId: string;
  fireAt: number;
  created: boolean;
  at: number;
}

function lines(p: WorkerProcess): Line[] {
  return p
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
}

describeWithRedis("schedules across processes", () => {
  const fx = redisFixture();

  it("three processes on one Redis fire every 1 s tick exactly once", {
    timeout: 90_000,
  }, async () => {
    const prefix = "procs:";
    const procs = await Promise.all(
      [1, 2, 3].map(() =>
        startWorker({
          url: fx.server.url,
          prefix,
          script: { path: FIXTURE, args: [fx.server.url, prefix] },
        }),
      ),
    );
    const all = () => procs.flatMap(lines);
    // Enough ticks of both schedules, waited for as they are logged.
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 60_000;
      const poll = setInterval(() => {
        const got = all();
        const done = ["secondly", "beat"].every(
          (s) => got.filter((l) => l.jobId.startsWith(`sched:${s}:`)).length >= TICKS,
        );
        if (done || Date.now() > deadline) {
          clearInterval(poll);
          if (done) resolve();
          else
            reject(
              new Error(`too few firings in 60 s:\n${procs.map((p) => p.output()).join("\n")}`),
            );
        }
      }, 100);
    });
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.exited));

    const got = all();
    const byJob = new Map<string, Line[]>();
    for (const l of got) byJob.set(l.jobId, [...(byJob.get(l.jobId) ?? []), l]);
    const twice = [...byJob.entries()].filter(([, ls]) => ls.length > 1);
    assert.deepEqual(twice, [], "no tick enqueued twice");
    assert.ok(
      got.every((l) => l.created),
      "every enqueue stored a new job",
    );
    for (const s of ["secondly", "beat"]) {
      const ticks = got
        .filter((l) => l.jobId.startsWith(`sched:${s}:`))
        .map((l) => l.fireAt)
        .sort((a, b) => a - b);
      const gaps = ticks.slice(1).filter((t, i) => t - ticks[i]! !== 1_000);
      assert.deepEqual(gaps, [], `${s}: ticks 1 s apart, none missed (${ticks.length} ticks)`);
    }
    const late = Math.max(...got.map((l) => l.at - l.fireAt));
    const share = procs.map((p) => lines(p).length);
    process.stdout.write(
      `# ${got.length} firings, shares ${share.join("/")}, latest ${late} ms after its tick\n`,
    );
    assert.equal(await fx.raw.zcard(`${prefix}schedule-firings`), 0, "nothing left in flight");
  });
});
