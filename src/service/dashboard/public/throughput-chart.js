// Throughput over the last minutes: jobs completed and failed per second,
// counted from the event stream into a ring of one-second buckets and drawn
// with uPlot once a second (never per event).
import { byId, el, setChildren } from "./dom.js";
import { tokenQuery } from "./token.js";

/** Seconds kept: the longest window offered. */
const CAPACITY = 900;
/** Seconds averaged for the rate shown in the card's header. */
const RATE_SECONDS = 10;

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

const pad = (n) => String(n).padStart(2, "0");
/** `14:05` or `14:05:30`: one short line, so the labels never collide. */
function clock(sec, withSeconds) {
  const d = new Date(sec * 1000);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return withSeconds ? `${hm}:${pad(d.getSeconds())}` : hm;
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
  let windowSeconds = Number(windowSelect.value) || 300;
  let plot;

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

  /** The last `seconds` whole seconds (the current one is still filling). */
  function series(seconds) {
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
            return splits.map((sec) => clock(sec, step < 60));
          },
        },
        {
          ...axis,
          size: 40,
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? v : "")),
        },
      ],
      series: [
        {
          label: "Time",
          value: (_u, sec) => (sec === null || sec === undefined ? "—" : clock(sec, true)),
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

  function draw() {
    advance(Math.floor(Date.now() / 1000));
    let c = 0;
    let f = 0;
    for (let i = 1; i <= RATE_SECONDS; i++) {
      const slot = (head - i + CAPACITY) % CAPACITY;
      c += completed[slot];
      f += failed[slot];
    }
    setChildren(
      rate,
      el("span", { className: "rate-completed" }, `${(c / RATE_SECONDS).toFixed(1)} completed/s`),
      el("span", { className: "rate-failed" }, `${(f / RATE_SECONDS).toFixed(1)} failed/s`),
    );
    plot?.setData(series(windowSeconds));
  }

  function build(uPlot) {
    plot?.destroy();
    box.replaceChildren();
    plot = new uPlot(options(Math.max(200, box.clientWidth)), series(windowSeconds), box);
  }

  loadUPlot().then(
    (uPlot) => {
      build(uPlot);
      new ResizeObserver(() => {
        if (plot && box.clientWidth > 0 && Math.abs(plot.width - box.clientWidth) > 1) {
          plot.setSize({ width: box.clientWidth, height: 200 });
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

  return {
    /** Counts a status event that ends a job as completed or failed. */
    apply(event) {
      if (event.to !== "completed" && event.to !== "failed") return;
      const sec = Math.floor(Date.now() / 1000);
      advance(sec);
      (event.to === "completed" ? completed : failed)[sec % CAPACITY] += 1;
    },
  };
}
