/**
 * The chaos tests' bookkeeping, in the manner of the Jepsen queue checker:
 * every attempt is logged by the job itself (job id, attempt, process), every
 * acknowledged enqueue is remembered, every `completed` event is counted,
 * and at the end each job is classed as ok, lost (acknowledged, never
 * finished), duplicated (finished twice) or unexpected (finished, never
 * enqueued).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobResult, RedisQueue } from "rapidai/background";

/** Full-scale runs (`npm run chaos`) set CHAOS_FULL=1; `npm test` runs them scaled down. */
export const FULL = process.env.CHAOS_FULL === "1";

export interface AttemptRecord {
  id: string;
  attempt: number;
  pid: number;
  phase: "start" | "end";
  at: number;
}

export interface Verdict {
  ok: string[];
  lost: string[];
  duplicated: string[];
  unexpected: string[];
  /** Jobs that ran more than once. */
  reruns: string[];
  results: Map<string, JobResult | undefined>;
}

export class ChaosLog {
  readonly dir = mkdtempSync(join(tmpdir(), "rapidai-chaos-"));
  readonly file = join(this.dir, "attempts.jsonl");
  readonly enqueued = new Set<string>();
  readonly completions = new Map<string, number>();

  /** Counts `completed` events from a queue that listens to every process. */
  watch(queue: RedisQueue): void {
    queue.on("completed", (e) =>
      this.completions.set(e.jobId, (this.completions.get(e.jobId) ?? 0) + 1),
    );
  }

  attempts(): AttemptRecord[] {
    let text = "";
    try {
      text = readFileSync(this.file, "utf8");
    } catch {}
    // Worker processes append while this reads: only whole lines count; a
    // line still being written is read next time.
    const whole = text.slice(0, text.lastIndexOf("\n") + 1);
    return whole
      .split("\n")
      .filter((l) => l.trim().length > 0)
      .map((l) => JSON.parse(l) as AttemptRecord);
  }

  /** Waits until every enqueued job is finished (or the deadline passes), then classes them. */
  async verdict(queue: RedisQueue, deadlineMs: number): Promise<Verdict> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const counts = await queue.countJobs().catch(() => undefined);
      if (counts !== undefined && counts.pending === 0 && counts.running === 0) break;
      if (Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Events of the last jobs may still be on their way.
    await new Promise((r) => setTimeout(r, 300));
    const results = new Map<string, JobResult | undefined>();
    const v: Verdict = { ok: [], lost: [], duplicated: [], unexpected: [], reruns: [], results };
    for (const id of this.enqueued) {
      const r = await queue.getResult(id);
      results.set(id, r);
      if ((this.completions.get(id) ?? 0) > 1) v.duplicated.push(id);
      else if (r?.status !== "completed") v.lost.push(id);
      else v.ok.push(id);
      if ((r?.attempts ?? 0) > 1) v.reruns.push(id);
    }
    for (const id of this.completions.keys()) if (!this.enqueued.has(id)) v.unexpected.push(id);
    for (const a of this.attempts()) if (!this.enqueued.has(a.id)) v.unexpected.push(a.id);
    return v;
  }

  summary(name: string, v: Verdict): string {
    return (
      `chaos ${name}: ${this.enqueued.size} jobs, ok ${v.ok.length}, lost ${v.lost.length}, ` +
      `duplicated ${v.duplicated.length}, unexpected ${v.unexpected.length}, re-run ${v.reruns.length}`
    );
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
