/**
 * Child-process entry for one engine of the head-to-head latency case
 * (scenarios/latency-head-to-head.ts): it opens its engine, then runs what
 * the parent asks over IPC, one request at a time, and sleeps in between
 * (bench/latency-sides.ts is the parent's end).
 * Each engine has a process of its own, so neither meets the other's heap,
 * threads or garbage; the two take turns, so both meet the same moments of
 * the machine. argv: <engine> <threads> <Redis URL, or "">.
 */
import { idleSeries, loadPoint } from "./latency-load.js";
import { type LatencySubject, openSubject } from "./latency-subjects.js";

/**
 * What the parent asks: the warm-up jobs, a series of `jobs` idle jobs (one
 * at a time, none unmeasured), or one point of offered load.
 */
export type SideRequest =
  | { kind: "warm" }
  | { kind: "idle"; jobs: number }
  | { kind: "load"; rate: number; ms: number };

/** →done figures, ms; `samples` every job's, for an idle series. */
export interface SideFigures {
  p50: number;
  p99: number;
  backlogMs: number;
  samples?: number[];
}

/** What this process answers to each request (and once, `ready` or `error`, after opening). */
export type SideReply =
  | { kind: "ready" }
  | { kind: "done"; figures: SideFigures }
  | { kind: "error"; message: string };

function reply(message: SideReply): void {
  process.send?.(message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function serve(subject: LatencySubject, request: SideRequest): Promise<SideFigures> {
  if (request.kind === "warm") {
    await idleSeries(subject, 0, () => {}, 0);
    return { p50: 0, p99: 0, backlogMs: 0 };
  }
  if (request.kind === "idle") {
    const r = await idleSeries(subject, request.jobs, () => {}, 0, 0);
    return { p50: r.done.p50, p99: r.done.p99, backlogMs: 0, samples: r.samples };
  }
  const r = await loadPoint(subject, request.rate, request.ms);
  return { p50: r.done.p50, p99: r.done.p99, backlogMs: r.backlogMs };
}

const engine = process.argv[2] ?? "";
const threads = Number(process.argv[3]);
const redisUrl = process.argv[4] === "" ? undefined : process.argv[4];
let subject: LatencySubject | undefined;
try {
  subject = await openSubject(engine, { threads, redisUrl });
  reply({ kind: "ready" });
} catch (error) {
  reply({ kind: "error", message: messageOf(error) });
  process.disconnect?.();
}

let queue = Promise.resolve();
process.on("message", (request: SideRequest) => {
  queue = queue.then(async () => {
    try {
      reply({ kind: "done", figures: await serve(subject!, request) });
    } catch (error) {
      reply({ kind: "error", message: messageOf(error) });
    }
  });
});
// The parent hung up: close the engine and let the process end.
process.on("disconnect", () => {
  void queue.then(() => subject?.close());
});
