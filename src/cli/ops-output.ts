import { JOB_STATUSES } from "../job-status.js";
import type { Json } from "./ops-client.js";

/** Left-aligned columns, two spaces apart, for a terminal. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const text = (v: unknown): string => (v === null || v === undefined ? "-" : String(v));

/** `jobs list`: one row per job, then where the page is. */
export function formatJobList(answer: Json): string {
  const jobs = answer.jobs as Json[];
  if (jobs.length === 0) return "no jobs";
  const rows = jobs.map((j) => [
    text(j.job_id),
    text(j.task),
    text(j.status),
    text(j.attempts),
    text(j.created_at),
  ]);
  const from = Number(answer.offset) + 1;
  const to = Number(answer.offset) + jobs.length;
  const of = answer.total === undefined ? "" : ` of ${String(answer.total)}`;
  return `${table(["ID", "TASK", "STATUS", "ATTEMPTS", "CREATED"], rows)}\n(${from}-${to}${of})`;
}

const LABELS: [string, string][] = [
  ["job_id", "id"],
  ["task", "task"],
  ["status", "status"],
  ["attempts", "attempts"],
  ["max_retries", "max retries"],
  ["created_at", "created"],
  ["run_at", "due"],
  ["started_at", "started"],
  ["completed_at", "finished"],
  ["duration", "duration (s)"],
  ["depends_on", "depends on"],
  ["args", "args"],
  ["progress", "progress"],
  ["result", "result"],
  ["error", "error"],
  ["last_error", "last error"],
  ["error_code", "error code"],
];

/** `jobs show`: one `label: value` line per field the job has. */
export function formatJob(job: Json): string {
  const width = Math.max(...LABELS.map(([, l]) => l.length));
  const lines: string[] = [];
  for (const [key, label] of LABELS) {
    if (!(key in job)) continue;
    const v = job[key];
    const shown =
      key === "depends_on" && Array.isArray(v)
        ? v.join(", ")
        : typeof v === "string" || typeof v === "number"
          ? String(v)
          : JSON.stringify(v);
    lines.push(`${`${label}:`.padEnd(width + 2)}${shown}`);
  }
  return lines.join("\n");
}

/** `queue counts`: the paused state, then each status. */
export function formatCounts(answer: Json): string {
  const counts = answer.counts as Record<string, number>;
  const rows = JOB_STATUSES.map((s) => [s, String(counts[s] ?? 0)]);
  return `${answer.paused === true ? "paused" : "running"} (${text(answer.backend)} queue)\n${table(["STATUS", "JOBS"], rows)}`;
}
