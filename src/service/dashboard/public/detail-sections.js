// Parts of the job detail drawer that operate a job or lead elsewhere: the
// action buttons (retry, promote, cancel), the jobs it depends on (links),
// and the lines it logged.
import { el } from "./dom.js";
import { formatFullTime, formatRelative, formatTooltipTime } from "./format.js";
import { isDelayed } from "./job-table.js";

const ACTIVE = new Set(["pending", "running"]);
const RETRYABLE = new Set(["failed", "cancelled"]);

function actionButton(id, className, label, onClick) {
  return el(
    "button",
    {
      type: "button",
      className,
      id,
      on: {
        click: (event) => {
          event.currentTarget.disabled = true;
          onClick();
        },
      },
    },
    label,
  );
}

/** The buttons a job in its state offers. */
export function actionButtons(job, { onCancel, onRetry, onPromote }) {
  return el(
    "div",
    { className: "detail-actions" },
    RETRYABLE.has(job.status) &&
      actionButton("detail-retry", "primary", "Retry job", () => onRetry(job.job_id)),
    isDelayed(job) && actionButton("detail-promote", "", "Start now", () => onPromote(job.job_id)),
    ACTIVE.has(job.status) &&
      actionButton("detail-cancel", "danger", "Cancel job", () => onCancel(job.job_id)),
  );
}

/** "Due" for a delayed job. */
export function dueFact(job) {
  if (!isDelayed(job)) return [];
  return [
    el("dt", {}, "Due"),
    el(
      "dd",
      { className: "due", title: formatTooltipTime(job.run_at) },
      `${formatFullTime(job.run_at)} (${formatRelative(job.run_at)})`,
    ),
  ];
}

/** The jobs this one waits for, each a link that opens its detail. */
export function dependencySection(job, onOpen) {
  if (!Array.isArray(job.depends_on) || job.depends_on.length === 0) return false;
  return el(
    "section",
    { className: "detail-section" },
    el("h3", {}, "Depends on"),
    el(
      "ul",
      { className: "dependencies" },
      job.depends_on.map((id) =>
        el(
          "li",
          {},
          el(
            "a",
            {
              className: "job-link dep-link",
              href: `#job=${encodeURIComponent(id)}`,
              dataset: { dep: id },
              on: {
                click: (event) => {
                  event.preventDefault();
                  onOpen(id);
                },
              },
            },
            id,
          ),
        ),
      ),
    ),
  );
}

/** The job's log, oldest line first; undefined when the service has none for it. */
export function logSection(lines) {
  if (!Array.isArray(lines)) return false;
  return el(
    "section",
    { className: "detail-section" },
    el(
      "h3",
      {},
      "Log",
      el(
        "span",
        { className: "log-count" },
        `${lines.length} line${lines.length === 1 ? "" : "s"}`,
      ),
    ),
    lines.length === 0
      ? el("p", { className: "log-empty" }, "Nothing logged.")
      : el("pre", { className: "log", id: "detail-log" }, lines.join("\n")),
  );
}
