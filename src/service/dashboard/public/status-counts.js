// The row of counters: how many jobs are in each state, kept live by applying
// each status event, and corrected from /api/stats every few seconds.
import { el, perFrame } from "./dom.js";
import { formatCount, statusLabel } from "./format.js";

export const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];

/**
 * Renders into `root`; `onSelect(status)` runs when a counter is clicked
 * (clicking the selected one again passes "").
 */
export function createStatusCounts(root, { onSelect }) {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  let known = false;
  let selected = "";
  const cards = new Map();

  const total = el("span", { className: "count-value" }, "—");
  root.append(
    el(
      "div",
      { className: "count-card total" },
      el("span", { className: "count-label" }, "Total"),
      total,
    ),
  );
  for (const status of STATUSES) {
    const value = el("span", { className: "count-value" }, "—");
    const card = el(
      "button",
      {
        type: "button",
        className: `count-card status-${status}`,
        dataset: { status },
        title: `Show ${status} jobs`,
        attrs: { "aria-pressed": "false" },
        on: { click: () => onSelect(selected === status ? "" : status) },
      },
      el(
        "span",
        { className: "count-label" },
        el("span", { className: "count-dot" }),
        statusLabel(status),
      ),
      value,
    );
    cards.set(status, { card, value });
    root.append(card);
  }

  const render = perFrame(() => {
    let sum = 0;
    for (const status of STATUSES) {
      const n = counts[status];
      sum += n;
      const { card, value } = cards.get(status);
      value.textContent = known ? formatCount(n) : "—";
      card.setAttribute("aria-pressed", String(selected === status));
    }
    total.textContent = known ? formatCount(sum) : "—";
  });

  return {
    /** Replaces every count (from /api/stats). */
    set(next) {
      for (const status of STATUSES) counts[status] = Number(next?.[status]) || 0;
      known = true;
      render();
    },
    /** Applies one status event: the job leaves `from` (null on creation) and enters `to`. */
    apply(event) {
      if (event.from && event.from in counts)
        counts[event.from] = Math.max(0, counts[event.from] - 1);
      if (event.to in counts) counts[event.to] += 1;
      render();
    },
    /** Marks the counter of the status the table is filtered by. */
    select(status) {
      selected = status;
      render();
    },
  };
}
