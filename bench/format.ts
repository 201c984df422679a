/** Number formatting shared by the table, the summary and the progress line. */

export function fmtInt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return Math.round(n).toLocaleString("en-US");
}

/** A rate: whole numbers when large, one decimal when small (CPU-bound jobs/s). */
export function fmtRate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n >= 100 ? fmtInt(n) : n.toFixed(1);
}

export function fmtNum(n: number | undefined, digits = 2): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n.toFixed(digits);
}

export function fmtMs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  if (n >= 100) return `${n.toFixed(0)} ms`;
  if (n >= 1) return `${n.toFixed(2)} ms`;
  return `${(n * 1000).toFixed(0)} µs`;
}

export function fmtRatio(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return `${n.toFixed(2)}×`;
}

export function fmtPct(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return `±${n.toFixed(1)}%`;
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return `${Math.round(n).toLocaleString("en-US")} B`;
}

export function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A result's status cell when it has no figures; the reason goes under the table. */
export function statusOf(r: { error?: string; skipped?: string }): string | undefined {
  if (r.skipped !== undefined) return "skipped";
  if (r.error !== undefined) return "FAILED";
  return undefined;
}
