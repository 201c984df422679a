// How values look on screen: times, durations, counts, progress, JSON.

const numberFormat = new Intl.NumberFormat();
// One rule for every time on the page (table, detail, chart, schedules):
// a 24-hour clock, `23:03:40`, with the date in front when it is not today
// (`Dec 1, 23:03:40`) and the year when it is not this year. The clock is
// built by hand so it reads the same in every locale and beside the chart's
// axis; only the month's name comes from the browser's locale.
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const dayYearFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  year: "numeric",
});
const weekdayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  month: "short",
  day: "numeric",
  year: "numeric",
});

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** `23:03` or `23:03:40` or `23:03:40.038`, in local time. */
export function clock(d, { seconds = true, ms = false } = {}) {
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (!seconds) return hm;
  const hms = `${hm}:${pad(d.getSeconds())}`;
  return ms ? `${hms}.${pad(d.getMilliseconds(), 3)}` : hms;
}

/** `""` today, else `Dec 1, ` (or `Dec 1, 2025, ` in another year). */
function dayPrefix(d, now) {
  if (d.toDateString() === now.toDateString()) return "";
  const f = d.getFullYear() === now.getFullYear() ? dayFormat : dayYearFormat;
  return `${f.format(d)}, `;
}

/** A Date from an ISO string or epoch milliseconds; undefined for anything else. */
export function toDate(value) {
  if (value === undefined || value === null || value === "") return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** `12,345`. */
export function formatCount(n) {
  return numberFormat.format(n);
}

/** `23:03:40` today, `Dec 1, 23:03:40` another day; "—" when unknown. */
export function formatTime(value, now = new Date()) {
  const d = toDate(value);
  if (!d) return "—";
  return dayPrefix(d, now) + clock(d);
}

/** The same with milliseconds, for the detail view: `23:03:40.038`, `Dec 1, 23:03:40.038`. */
export function formatFullTime(value, now = new Date()) {
  const d = toDate(value);
  if (!d) return "—";
  return dayPrefix(d, now) + clock(d, { ms: true });
}

/** Every part, for tooltips: `Tue, Dec 1, 2026, 23:03:40.038`. */
export function formatTooltipTime(value) {
  const d = toDate(value);
  if (!d) return "";
  return `${weekdayFormat.format(d)}, ${clock(d, { ms: true })}`;
}

/** `in 4.20 s`, `in 59 min 58 s`, `now` once due, `5 min 02 s ago` after. */
export function formatRelative(value, now = Date.now()) {
  const d = toDate(value);
  if (!d) return "";
  const ms = d.getTime() - now;
  if (Math.abs(ms) < 1000) return "now";
  return ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}

/** `850 ms`, `4.2 s`, `3 min 05 s`, `2 h 07 min`. */
export function formatDuration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Milliseconds between two timestamps, or undefined when one is missing. */
export function elapsed(from, to) {
  const a = toDate(from);
  const b = toDate(to);
  return a && b ? b.getTime() - a.getTime() : undefined;
}

/**
 * A job's progress as a fraction from 0 to 1, when it looks like one: a
 * number from 0 to 1, a percentage up to 100, or `{ done, total }`,
 * `{ current, total }`, `{ percent }`. Undefined for anything else.
 */
export function progressFraction(progress) {
  if (typeof progress === "number" && Number.isFinite(progress)) {
    if (progress >= 0 && progress <= 1) return progress;
    if (progress > 1 && progress <= 100) return progress / 100;
    return undefined;
  }
  if (progress && typeof progress === "object") {
    const p = progress;
    const done = p.done ?? p.current ?? p.completed;
    if (typeof done === "number" && typeof p.total === "number" && p.total > 0) {
      return Math.min(1, Math.max(0, done / p.total));
    }
    if (typeof p.percent === "number") return progressFraction(p.percent / 100);
  }
  return undefined;
}

/** Pretty JSON for the detail view (values arrive as JSON already). */
export function formatJson(value) {
  if (value === undefined) return "—";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/** One-line JSON, cut to `max` characters. */
export function formatJsonShort(value, max = 80) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `Pending` from `pending`. */
export function statusLabel(status) {
  return typeof status === "string" && status ? status[0].toUpperCase() + status.slice(1) : "";
}
