/**
 * Output of a run: a plain-text table on stdout, the full JSON, and a
 * markdown summary for the repository (linked from the README).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fmtBytes, fmtDuration, fmtMs, fmtNum, fmtRatio } from "./format.js";
import { PROFILES } from "./profile.js";
import { SCENARIOS } from "./scenarios/index.js";
import type { PlanContext, Table } from "./scenarios/scenario.js";
import { type BenchReport, type CaseResult, SCENARIO_IDS, type TargetResult } from "./types.js";

function fmtTarget(t: TargetResult, value: number | null): string {
  if (value === null) return "–";
  if (t.unit === "×") return fmtRatio(value);
  if (t.unit === "ms") return fmtMs(value);
  if (t.unit === "B") return fmtBytes(value);
  return fmtNum(value);
}

function verdict(t: TargetResult): string {
  return t.met === null ? "not measured" : t.met ? "met" : "NOT MET";
}

function targetsTable(targets: TargetResult[]): Table {
  return {
    headers: ["target", "measured", "threshold", "result"],
    rows: targets.map((t) => [
      t.description,
      fmtTarget(t, t.figure),
      `${t.comparator} ${fmtTarget(t, t.threshold)}`,
      verdict(t),
    ]),
  };
}

function machineLines(r: BenchReport): string[] {
  const m = r.machine;
  return [
    `CPU: ${m.cpuModel}, ${m.cores} cores (available parallelism ${m.availableParallelism}), ` +
      `${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB RAM`,
    `Node ${m.node} (V8 ${m.v8}), ${m.platform} ${m.osRelease} ${m.arch}, redis-server ${m.redisServer ?? "absent"}`,
    `load average at start ${m.loadAvgStart.join(" / ")}${m.loadAvgEnd ? `, at end ${m.loadAvgEnd.join(" / ")} (includes this run)` : ""}` +
      (m.otherCpuShare === undefined
        ? ""
        : `; CPU used by other processes during the run: ${(m.otherCpuShare * 100).toFixed(0)} %`),
    `profile ${r.profile}, ${r.threads} worker threads per pool, run took ${fmtDuration(r.durationMs)}`,
    ...busyWarning(r),
  ];
}

/**
 * Says so when other processes competed for the CPU. The CPU share measured
 * during the run decides; without it, the load average before the run
 * (the one at the end includes the benchmark's own load).
 */
function busyWarning(r: BenchReport): string[] {
  const m = r.machine;
  const tail =
    "CPU-bound figures (speedup, scaling) understate the engines and every figure is noisier than on an idle machine";
  if (m.otherCpuShare !== undefined) {
    if (m.otherCpuShare < 0.1) return [];
    return [
      `WARNING: other processes used ${(m.otherCpuShare * 100).toFixed(0)} % of the machine's CPU during this run: ${tail}`,
    ];
  }
  const before = m.loadAvgStart[0] ?? 0;
  if (before < m.availableParallelism / 2) return [];
  return [
    `WARNING: the load average was ${before} on ${m.availableParallelism} cores when the run started: ${tail}`,
  ];
}

/** One line per distinct reason a case was skipped or failed, naming the cases. */
function whyNotMeasured(results: CaseResult[]): string[] {
  const reasons = new Map<string, string[]>();
  for (const r of results) {
    const why =
      r.skipped !== undefined
        ? `skipped: ${r.skipped}`
        : r.error !== undefined
          ? `FAILED: ${r.error.split("\n")[0]}`
          : undefined;
    if (why === undefined) continue;
    reasons.set(why, [...(reasons.get(why) ?? []), r.label]);
  }
  const notes: string[] = [];
  for (const [why, labels] of reasons) notes.push(`${[...new Set(labels)].join("; ")} — ${why}`);
  for (const r of results) for (const n of r.notes ?? []) notes.push(`${r.label}: ${n}`);
  return notes;
}

/** Scenario tables of a report, in run order, only for scenarios that ran. */
function scenarioTables(r: BenchReport): { title: string; method: string; table: Table }[] {
  const ctx: PlanContext = {
    profile: PROFILES[r.profile],
    threads: r.threads,
    cores: r.machine.availableParallelism,
    redis: r.machine.redisServer !== null,
    previous: r.results,
  };
  const out: { title: string; method: string; table: Table }[] = [];
  for (const id of SCENARIO_IDS) {
    const results = r.results.filter((x) => x.scenario === id);
    if (results.length === 0) continue;
    const s = SCENARIOS[id];
    const table = s.table(results, ctx);
    table.footnotes = [...(table.footnotes ?? []), ...whyNotMeasured(results)];
    out.push({ title: s.title, method: s.method, table });
  }
  return out;
}

function textTable(t: Table): string {
  const all = [t.headers, ...t.rows];
  const widths = t.headers.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  // Numbers right-aligned, words left-aligned.
  const numeric = t.headers.map((_, i) =>
    t.rows.every((row) => /^([-–±\d.,:% ×]*( ms| µs| B|×)?|skipped|FAILED)$/.test(row[i] ?? "")),
  );
  const line = (row: string[]) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const lines = [line(t.headers), rule, ...t.rows.map(line)];
  for (const f of t.footnotes ?? []) lines.push(`  ${f}`);
  return lines.join("\n");
}

/** The human-readable report for stdout. */
export function formatText(r: BenchReport): string {
  const parts = [`rapidai benchmark — ${r.startedAt}`, ...machineLines(r), ""];
  for (const s of scenarioTables(r)) {
    parts.push(`== ${s.title} ==`, textTable(s.table), "");
  }
  parts.push("== Targets ==", textTable(targetsTable(r.targets)), "");
  return parts.join("\n");
}

function mdEscape(cell: string): string {
  return cell.replace(/\|/g, "\\|");
}

function mdTable(t: Table): string {
  const lines = [
    `| ${t.headers.map(mdEscape).join(" | ")} |`,
    `| ${t.headers.map(() => "---").join(" | ")} |`,
    ...t.rows.map((row) => `| ${row.map(mdEscape).join(" | ")} |`),
  ];
  if (t.footnotes?.length) lines.push("", ...t.footnotes.map((f) => `<sub>${f}</sub>  `));
  return lines.join("\n");
}

/** The markdown summary committed as bench/results/SUMMARY.md. */
export function formatMarkdown(r: BenchReport): string {
  const parts = [
    "# Benchmark results",
    "",
    `Measured ${r.startedAt} with \`${r.command}\`. Every figure and every ratio below comes from this one run ` +
      "on one machine; method and caveats are in [docs/benchmarks.md](../../docs/benchmarks.md).",
    "",
    ...machineLines(r).map((l) => `- ${l}`),
    "",
    "## Targets",
    "",
    mdTable(targetsTable(r.targets)),
    "",
  ];
  for (const s of scenarioTables(r)) {
    parts.push(`## ${s.title}`, "", s.method, "", mdTable(s.table), "");
  }
  return parts.join("\n");
}

export function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
