/**
 * Live progress on stderr: which scenario, which case, how far, how long.
 * On a terminal one status line is redrawn in place; otherwise (CI, a pipe)
 * one line is written per finished case. stdout stays for the results table.
 */
import { fmtBytes, fmtDuration, fmtInt, fmtMs, fmtRatio } from "./format.js";
import type { CaseResult } from "./types.js";

/** The one figure worth showing as a case finishes. */
function headline(r: CaseResult): string {
  if (r.skipped !== undefined) return `skipped (${r.skipped})`;
  if (r.error !== undefined) return `FAILED: ${r.error.split("\n")[0]}`;
  const f = r.figures;
  if (f.speedup !== undefined)
    return `speedup ${fmtRatio(f.speedup)} (${fmtInt(f.jobsPerSec)} jobs/s on the pool)`;
  if (f.jobsPerSec_1 !== undefined) {
    const byThreads = Object.keys(f)
      .filter((k) => k.startsWith("jobsPerSec_"))
      .map((k) => `${k.slice("jobsPerSec_".length)}T ${fmtInt(f[k])}`);
    return `${byThreads.join(", ")} jobs/s`;
  }
  if (f.jobsPerSec !== undefined) return `${fmtInt(f.jobsPerSec)} jobs/s`;
  if (f.p99Ms !== undefined) return `p99 delay ${fmtMs(f.p99Ms)}`;
  if (f.idleStartP99Ms !== undefined) return `idle enqueue→start p99 ${fmtMs(f.idleStartP99Ms)}`;
  if (f.heapBytesPerJob !== undefined) return `${fmtBytes(f.heapBytesPerJob)} per job`;
  if (f.redisBytesPerJob !== undefined) return `${fmtBytes(f.redisBytesPerJob)} per job`;
  return "done";
}

export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #live: boolean;
  readonly #startedAt = performance.now();
  #scenario = "";
  #case = "";
  #caseStartedAt = 0;
  #detail = "";
  #ticker: NodeJS.Timeout | undefined;

  constructor(out: NodeJS.WriteStream = process.stderr, quiet = false) {
    this.#out = out;
    this.#live = !quiet && out.isTTY === true;
  }

  scenario(index: number, total: number, id: string, title: string): void {
    this.#scenario = `[${index}/${total} ${id}]`;
    this.#clear();
    this.#out.write(`${this.#scenario} ${title}\n`);
  }

  caseStarted(index: number, total: number, label: string): void {
    this.#case = `case ${index}/${total}: ${label}`;
    this.#caseStartedAt = performance.now();
    this.#detail = "starting";
    if (this.#live) {
      this.#ticker ??= setInterval(() => this.#draw(), 1000);
      this.#ticker.unref();
      this.#draw();
    }
  }

  caseProgress(done: number, total: number, what: string): void {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
    this.#detail = `${fmtInt(done)}/${fmtInt(total)} ${what} (${pct}%)`;
    if (this.#live) this.#draw();
  }

  caseFinished(result: CaseResult): void {
    this.#clear();
    const took = fmtDuration(performance.now() - this.#caseStartedAt);
    this.#out.write(`    ${result.label}: ${headline(result)}  [${took}]\n`);
  }

  done(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#clear();
    this.#out.write(`benchmark finished in ${fmtDuration(performance.now() - this.#startedAt)}\n`);
  }

  #draw(): void {
    const elapsed = fmtDuration(performance.now() - this.#startedAt);
    const line = `  ${this.#case} · ${this.#detail} · ${elapsed} elapsed`;
    const width = this.#out.columns ?? 120;
    this.#out.write(`\r\x1b[K${line.slice(0, width - 1)}`);
  }

  #clear(): void {
    if (this.#live) this.#out.write("\r\x1b[K");
  }
}
