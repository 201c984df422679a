// How values look on screen: times, durations, counts, progress, JSON.

const numberFormat = new Intl.NumberFormat();
const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

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

/** Clock time today, date and time otherwise; "—" when unknown. */
export function formatTime(value) {
  const d = toDate(value);
  if (!d) return "—";
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return (sameDay ? timeFormat : dateTimeFormat).format(d);
}

/** Full timestamp, for tooltips and the detail view. */
export function formatFullTime(value) {
  const d = toDate(value);
  if (!d) return "—";
  const ms = String(d.getMilliseconds()).padStart(3, "0");
  return `${dateTimeFormat.format(d)}.${ms}`;
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
