// The tasks card: per-task counts, failure rate and p50/p95 duration over
// the newest finished jobs (`GET /api/tasks`), as Flower shows them. A task
// name filters the job table. Read on a timer: it is a summary, not live.
import { getTaskStats } from "./api.js";
import { byId, el, setChildren } from "./dom.js";
import { formatCount, formatDuration, formatTime, formatTooltipTime } from "./format.js";

/** `12.5 %`, `0 %`, or "—" when nothing completed or failed yet. */
export function formatRate(rate) {
  if (typeof rate !== "number" || !Number.isFinite(rate)) return "—";
  const pct = rate * 100;
  return `${pct === 0 || pct === 100 || pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)} %`;
}

/** Seconds (as the API gives durations) on the page's duration scale. */
const seconds = (s) => (typeof s === "number" ? formatDuration(s * 1000) : "—");

/** `1 finished job`, `5 finished jobs`. */
const jobs = (n, what) => `${formatCount(n)} ${what}${n === 1 ? "" : "s"}`;

/** A count cell: zeros are quiet, so the numbers that matter stand out. */
function countCell(className, n) {
  const value = typeof n === "number" ? n : 0;
  return el(
    "td",
    { className: `num ${className}${value === 0 ? " zero" : ""}` },
    formatCount(value),
  );
}

export function createTaskStats({ onTask }) {
  const card = byId("tasks-card");
  const body = byId("tasks-body");
  const empty = byId("tasks-empty");
  const note = byId("tasks-window");
  let seq = 0;

  function row(t) {
    const rate = t.failure_rate;
    return el(
      "tr",
      { dataset: { task: String(t.task) } },
      el(
        "td",
        { className: "task-cell" },
        el(
          "button",
          {
            type: "button",
            className: "task-link",
            title: `Show the jobs of ${t.task}`,
            on: { click: () => onTask(String(t.task)) },
          },
          String(t.task),
        ),
      ),
      countCell("running hide-phone", t.running),
      countCell("completed", t.completed),
      countCell(`failed${t.failed > 0 ? " bad" : ""}`, t.failed),
      countCell("cancelled hide-narrow", t.cancelled),
      el(
        "td",
        { className: `num failure-rate${typeof rate === "number" && rate > 0 ? " bad" : ""}` },
        formatRate(rate),
      ),
      el("td", { className: "num p50" }, seconds(t.duration_p50)),
      el("td", { className: "num p95 hide-phone" }, seconds(t.duration_p95)),
    );
  }

  function render(answer) {
    const tasks = Array.isArray(answer?.tasks) ? answer.tasks : [];
    card.hidden = false;
    empty.hidden = tasks.length > 0;
    setChildren(body, tasks.map(row));
    const w = answer?.window ?? {};
    note.textContent =
      typeof w.since === "string"
        ? `${jobs(w.jobs ?? 0, "job")} since ${formatTime(w.since)}`
        : jobs(w.jobs ?? 0, "finished job");
    note.title =
      typeof w.since === "string"
        ? `The newest ${formatCount(w.limit)} jobs of each finished status, from ${formatTooltipTime(w.since)}`
        : "Every finished job the queue still keeps";
  }

  return {
    async sync() {
      const mine = ++seq;
      try {
        const answer = await getTaskStats();
        if (mine === seq) render(answer);
      } catch {
        // An older service without the route, or down: the card keeps what it showed.
      }
    },
  };
}
