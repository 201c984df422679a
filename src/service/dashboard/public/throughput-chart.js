// Throughput over the last minutes: jobs completed and failed per second,
// counted from the event stream into a ring of one-second buckets and drawn
// with uPlot once a second (never per event).
import { getMetricsText } from "./api.js";
import { byId, el, setChildren } from "./dom.js";
import { clock } from "./format.js";
import { tokenQuery } from "./token.js";

/** Seconds kept: the longest window offered. */
const CAPACITY = 900;
/** Seconds averaged for the rate shown in the card's header. */
const RATE_SECONDS = 10;
/** The chart never shows less than this, even right after the page opened. */
const MIN_SECONDS = 60;
/** Lowest shortfall carried from one sync to the next. */
const MAX_CARRY = -1000;

let uPlotLoad;
function loadUPlot() {
  uPlotLoad ??= new Promise((resolve, reject) => {
    const q = tokenQuery();
    document.head.append(
      el("link", { rel: "stylesheet", href: `/dashboard/vendor/uPlot.min.css${q}` }),
    );
    document.head.append(
      el("script", {
        src: `/dashboard/vendor/uPlot.iife.min.js${q}`,
        on: {
          load: () => resolve(window.uPlot),
          error: () => reject(new Error("uPlot did not load")),
        },
      }),
    );
  });
  return uPlotLoad;
}

/** `14:05` or `14:05:30` (the clock of every other time on the page): one short line, so the labels never collide. */
const axisClock = (sec, withSeconds) => clock(new Date(sec * 1000), { seconds: withSeconds });

/**
 * Sum of a Prometheus counter over all its labels, from the text format;
 * undefined when the metric is absent. A counter declared (its `# TYPE`
 * line) with no sample yet is 0: a labelled counter has no sample until a
 * first job of some task counts in it, and taking that for "unknown" would
 * lose from the chart every job of a burst whose events the stream dropped.
 */
export function metricSum(text, name) {
  let sum;
  const declared = `# TYPE ${name} `;
  for (const line of text.split("\n")) {
    if (line.startsWith(declared)) sum ??= 0;
    if (!line.startsWith(name)) continue;
    const next = line[name.length];
    if (next !== "{" && next !== " ") continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/** `950`, `1.5k`, `30k`, `2.4M`: axis labels that fit. */
function compact(v) {
  if (!Number.isInteger(v)) return "";
  if (v < 1000) return String(v);
  if (v < 1_000_000) return `${+(v / 1000).toFixed(v < 10_000 ? 1 : 0)}k`;
  return `${+(v / 1_000_000).toFixed(1)}M`;
}

function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function createThroughputChart() {
  const box = byId("chart");
  const rate = byId("rate");
  const windowSelect = byId("chart-window");
  const completed = new Float64Array(CAPACITY);
  const failed = new Float64Array(CAPACITY);
  let head = Math.floor(Date.now() / 1000);
  const opened = head;
  let windowSeconds = Number(windowSelect.value) || 300;
  let plot;
  /** Jobs counted from events, to compare with the service's counters. */
  const seen = { completed: 0, failed: 0 };
  /** The service's counters (and `seen`) at the last sync. */
  let synced;
  const missing = { completed: 0, failed: 0 };
  let syncing = false;

  /** Moves the ring to second `sec`, zeroing the seconds it skips. */
  function advance(sec) {
    if (sec <= head) return;
    const steps = Math.min(sec - head, CAPACITY);
    for (let i = 1; i <= steps; i++) {
      const slot = (head + i) % CAPACITY;
      completed[slot] = 0;
      failed[slot] = 0;
    }
    head = sec;
  }

  /**
   * The last whole seconds of the window (the current one is still filling),
   * but none from before the page opened: it saw nothing then.
   */
  function series() {
    const seconds = Math.max(MIN_SECONDS, Math.min(windowSeconds, head - opened));
    const xs = new Array(seconds);
    const c = new Array(seconds);
    const f = new Array(seconds);
    for (let i = 0; i < seconds; i++) {
      const sec = head - seconds + i;
      const slot = ((sec % CAPACITY) + CAPACITY) % CAPACITY;
      xs[i] = sec;
      c[i] = completed[slot];
      f[i] = failed[slot];
    }
    return [xs, c, f];
  }

  function options(width) {
    const muted = cssVar("--muted", "#6b7280");
    const grid = cssVar("--grid", "rgba(0,0,0,0.07)");
    const axis = {
      stroke: muted,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
      font: "11px system-ui, sans-serif",
    };
    const line = (label, color, fill) => ({
      label,
      stroke: color,
      width: 2,
      fill,
      points: { show: false },
      value: (_u, v) => (v === null || v === undefined ? "—" : `${v}/s`),
    });
    return {
      width,
      height: 200,
      padding: [10, 28, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(2, Math.ceil(max * 1.15))] },
      },
      axes: [
        {
          ...axis,
          space: 64,
          values: (_u, splits) => {
            const step = splits.length > 1 ? splits[1] - splits[0] : 60;
            return splits.map((sec) => axisClock(sec, step < 60));
          },
        },
        {
          ...axis,
          size: 44,
          values: (_u, splits) => splits.map(compact),
        },
      ],
      series: [
        {
          label: "Time",
          value: (_u, sec) => (sec === null || sec === undefined ? "—" : axisClock(sec, true)),
        },
        line(
          "Completed",
          cssVar("--completed", "#16a34a"),
          cssVar("--completed-fill", "rgba(22,163,74,0.12)"),
        ),
        line(
          "Failed",
          cssVar("--failed", "#dc2626"),
          cssVar("--failed-fill", "rgba(220,38,38,0.10)"),
        ),
      ],
      legend: { live: true },
    };
  }

  /** `5 min`: the window chosen, as the select names it. */
  function windowLabel() {
    return windowSelect.selectedOptions[0]?.textContent ?? `${windowSeconds} s`;
  }

  function draw() {
    advance(Math.floor(Date.now() / 1000));
    let c = 0;
    let f = 0;
    for (let i = 1; i <= RATE_SECONDS; i++) {
      const slot = (head - i + CAPACITY) % CAPACITY;
      c += completed[slot];
      f += failed[slot];
    }
    const data = series();
    // What the window holds in all: unlike the 10 s rate, it does not fade while a slow burst is still counted.
    const sum = (ys) => Math.round(ys.reduce((a, b) => a + b, 0));
    const total = el(
      "span",
      {
        className: "window-total",
        title: "Jobs finished within the chart's window",
        dataset: { completed: String(sum(data[1])), failed: String(sum(data[2])) },
      },
      `${sum(data[1]).toLocaleString("en-US")} completed · ${sum(data[2]).toLocaleString("en-US")} failed in ${windowLabel()}`,
    );
    setChildren(
      rate,
      el("span", { className: "rate-completed" }, `${(c / RATE_SECONDS).toFixed(1)} completed/s`),
      el("span", { className: "rate-failed" }, `${(f / RATE_SECONDS).toFixed(1)} failed/s`),
      total,
    );
    plot?.setData(data);
  }

  /** The box's width inside its padding: clientWidth counts the padding too. */
  function innerWidth() {
    const style = getComputedStyle(box);
    return box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  }

  function build(uPlot) {
    plot?.destroy();
    box.replaceChildren();
    plot = new uPlot(options(Math.max(160, innerWidth())), series(), box);
  }

  loadUPlot().then(
    (uPlot) => {
      build(uPlot);
      new ResizeObserver(() => {
        const width = innerWidth();
        if (plot && width > 0 && Math.abs(plot.width - width) > 1) {
          plot.setSize({ width, height: 200 });
        }
      }).observe(box);
      matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => build(uPlot));
    },
    () =>
      setChildren(
        box,
        el("p", { className: "chart-missing" }, "Chart unavailable (uPlot did not load)."),
      ),
  );
  windowSelect.addEventListener("change", () => {
    windowSeconds = Number(windowSelect.value) || 300;
    draw();
  });
  draw();
  setInterval(draw, 1000);

  /** Adds `n` jobs spread evenly over the whole seconds from `fromSec` to `toSec`. */
  function spread(ring, n, fromSec, toSec) {
    const seconds = Math.max(1, Math.min(toSec - fromSec, CAPACITY));
    for (let i = 0; i < seconds; i++) ring[(toSec - i) % CAPACITY] += n / seconds;
  }

  return {
    /**
     * Reads the service's completed and failed counters (/metrics) and adds
     * the jobs the events did not bring (a dropped or paused stream), spread
     * over the time since the last read. Job counts by status cannot serve
     * for this: finished jobs are also removed from the queue.
     */
    async sync() {
      if (syncing) return;
      syncing = true;
      const asked = Date.now();
      let text;
      try {
        text = await getMetricsText();
      } catch {
        return;
      } finally {
        syncing = false;
      }
      // The service read its counters somewhere between asking and answering.
      const now = { at: Math.floor((asked + Date.now()) / 2000), seen: { ...seen } };
      now.completed = metricSum(text, "rapidai_jobs_completed_total");
      now.failed = metricSum(text, "rapidai_job_failures_total");
      advance(now.at);
      const before = synced;
      // Two reads within a second: keep the older one as the base of the next.
      if (before && before.at >= now.at) return;
      synced = now;
      // The base the chart counts from is read: what ends from now on is counted exactly.
      rate.dataset.synced = "true";
      if (!before) return;
      for (const [key, ring] of [
        ["completed", completed],
        ["failed", failed],
      ]) {
        if (now[key] === undefined || before[key] === undefined || now[key] < before[key]) {
          missing[key] = 0;
          continue;
        }
        // An event can land on either side of a read: a shortfall is kept to offset the next excess.
        const delta = now[key] - before[key] - (now.seen[key] - before.seen[key]) + missing[key];
        missing[key] = Math.max(MAX_CARRY, Math.min(0, delta));
        if (delta > 0) spread(ring, delta, before.at, now.at);
      }
    },
    /** Counts a status event that ends a job as completed or failed. */
    apply(event) {
      if (event.to !== "completed" && event.to !== "failed") return;
      const sec = Math.floor(Date.now() / 1000);
      advance(sec);
      (event.to === "completed" ? completed : failed)[sec % CAPACITY] += 1;
      seen[event.to] += 1;
    },
  };
}
