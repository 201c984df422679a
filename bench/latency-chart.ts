/**
 * The latency chart of a run: enqueue → done p99 against the offered rate,
 * one line per engine, both axes logarithmic. Plain SVG text, written next
 * to the markdown summary, so it needs no plotting library.
 */
import { pointCount } from "./scenarios/latency.js";
import type { CaseResult } from "./types.js";

const W = 760;
const H = 440;
const M = { left: 70, right: 190, top: 40, bottom: 56 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

interface Series {
  label: string;
  points: { x: number; y: number }[];
}

function seriesOf(results: readonly CaseResult[]): Series[] {
  const out: Series[] = [];
  for (const r of results) {
    if (r.scenario !== "latency" || r.error !== undefined || r.skipped !== undefined) continue;
    const points: { x: number; y: number }[] = [];
    for (let i = 0; i < pointCount(r); i++) {
      const x = r.figures[`p${i}:offeredRate`];
      const y = r.figures[`p${i}:doneP99Ms`];
      if (x !== undefined && y !== undefined && x > 0 && y > 0) points.push({ x, y });
    }
    if (points.length > 0) out.push({ label: r.label, points: points.sort((a, b) => a.x - b.x) });
  }
  return out;
}

/** Powers of ten covering [lo, hi]. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function tick(v: number, unit: string): string {
  if (unit === "ms" && v < 1) return `${v * 1000} µs`;
  if (v >= 1000) return `${v / 1000}k`;
  return `${v}${unit === "ms" ? " ms" : ""}`;
}

/** The chart as SVG text, or undefined when the run measured no load point. */
export function latencySvg(results: readonly CaseResult[], title: string): string | undefined {
  const series = seriesOf(results);
  if (series.length === 0) return undefined;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const xTicks = decades(Math.min(...xs), Math.max(...xs));
  const yTicks = decades(Math.min(...ys), Math.max(...ys));
  const [x0, x1] = [Math.log10(xTicks[0]!), Math.log10(xTicks[xTicks.length - 1]!)];
  const [y0, y1] = [Math.log10(yTicks[0]!), Math.log10(yTicks[yTicks.length - 1]!)];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (v: number) => M.left + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * pw;
  const py = (v: number) => M.top + ph - ((Math.log10(v) - y0) / (y1 - y0 || 1)) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of xTicks) {
    const x = px(t).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#ddd"/>`,
      `<text x="${x}" y="${M.top + ph + 18}" text-anchor="middle">${tick(t, "")}</text>`,
    );
  }
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    parts.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tick(t, "ms")}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">offered no-op jobs per second (log)</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">enqueue → done p99 (log)</text>`,
  );
  for (const [i, s] of series.entries()) {
    const color = COLORS[i % COLORS.length]!;
    const d = s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) {
      parts.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${color}"/>`,
      );
    }
    const ly = M.top + 10 + i * 20;
    parts.push(
      `<line x1="${M.left + pw + 12}" y1="${ly}" x2="${M.left + pw + 32}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${M.left + pw + 38}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
