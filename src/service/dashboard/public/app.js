// Wires the dashboard together: the event stream feeds every part, and
// /api/stats re-syncs the counters every few seconds in case events were lost.
import { cancelJob, getStats, promoteJob, retryJob } from "./api.js";
import { byId, debounce } from "./dom.js";
import { createEnqueueForm } from "./enqueue-form.js";
import { createJobDetail } from "./job-detail.js";
import { createJobSearch } from "./job-search.js";
import { createJobTable } from "./job-table.js";
import { connectEvents } from "./live-events.js";
import { createQueueControl } from "./queue-control.js";
import { createSchedules } from "./schedules.js";
import { createStatusCounts } from "./status-counts.js";
import { createTaskStats } from "./task-stats.js";
import { createThroughputChart } from "./throughput-chart.js";
import { toast } from "./toast.js";

const STATS_EVERY_MS = 5000;
/** Quiet time after a burst of events before the counters are re-read. */
const SETTLE_MS = 700;
/** How often the page polls while the event stream is down or paused. */
const POLL_MS = 1000;
const CONNECTION_LABELS = {
  live: "Live",
  connecting: "Connecting",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  busy: "Busy · polling",
};

function start() {
  const backend = byId("backend");
  const connection = byId("connection");
  const connectionLabel = connection.querySelector(".conn-label");

  async function cancel(id) {
    try {
      await cancelJob(id);
      toast(`Cancelled ${id}`, "success");
    } catch (error) {
      toast(`${id}: ${error.message}`, "error");
    }
    // The events update the table; this catches a refused cancel too.
    table.load();
  }

  /** A job action from the detail drawer: its answer in a toast, then the job re-read. */
  async function act(id, run, done) {
    try {
      await run(id);
      toast(`${done} ${id}`, "success");
    } catch (error) {
      toast(`${id}: ${error.message}`, "error");
    }
    detail.reload();
    table.load();
  }

  const detail = createJobDetail({
    onCancel: cancel,
    onRetry: (id) => act(id, retryJob, "Retrying"),
    onPromote: (id) => act(id, promoteJob, "Started early:"),
    onOpenChange: (id) => table.select(id),
  });
  const table = createJobTable({
    onOpen: (id) => detail.open(id),
    onCancel: cancel,
    onFilter: (status) => counts.select(status),
  });
  const counts = createStatusCounts(byId("counts"), {
    onSelect: (status) => table.setFilter({ status }),
  });
  const form = createEnqueueForm({
    onQueued: (id, open) => {
      if (open) detail.open(id);
      else table.flash(id);
    },
  });
  const chart = createThroughputChart();
  const queueControl = createQueueControl({
    onCleaned: () => {
      syncStats();
      table.load();
      detail.reload();
    },
  });
  const schedules = createSchedules({ onOpen: (id) => detail.open(id) });
  const taskStats = createTaskStats({
    onTask: (task) => {
      table.setFilter({ task });
      byId("table-title").scrollIntoView({ behavior: "smooth", block: "start" });
    },
  });
  const search = createJobSearch({
    onTask: (task) => table.setFilter({ task }),
    onJob: (id) => detail.open(id),
  });

  let statsSeq = 0;
  async function syncStats() {
    const mine = ++statsSeq;
    try {
      const stats = await getStats();
      if (mine !== statsSeq) return;
      counts.set(stats.counts);
      const tasks = Array.isArray(stats.tasks) ? stats.tasks.map(String) : [];
      form.setTasks(tasks);
      table.setTasks(tasks);
      search.setTasks(tasks);
      if (stats.backend) backend.textContent = String(stats.backend);
    } catch {
      // Shown by the connection pill and the table; retried on the next tick.
    }
  }

  // Without the stream (dropped, refused, or paused for being too busy) the
  // page polls: the counters, the first page, the open job and the chart.
  let pollTimer;
  function poll() {
    syncStats();
    queueControl.sync();
    chart.sync();
    table.poll();
    detail.poll();
  }

  function setConnection(state) {
    const live = state === "live" || state === "connecting";
    if (!live && pollTimer === undefined) {
      pollTimer = setInterval(poll, POLL_MS);
      // A plain request also tells why the stream was refused (a 401 asks for a token).
      poll();
    } else if (live && pollTimer !== undefined) {
      clearInterval(pollTimer);
      pollTimer = undefined;
    }
    connection.dataset.state = state;
    connection.title =
      state === "busy"
        ? "Thousands of events a second: live updates are paused, the page polls every second"
        : "Event stream";
    connectionLabel.textContent = CONNECTION_LABELS[state] ?? state;
  }

  // A stats snapshot and the events around it can overlap by a few jobs; when
  // a burst ends, one more read makes the counters exact at once.
  const settle = debounce(() => {
    syncStats();
    taskStats.sync();
    table.settle();
  }, SETTLE_MS);

  connectEvents({
    status(event) {
      settle();
      counts.apply(event);
      table.apply(event);
      detail.apply(event);
      chart.apply(event);
    },
    progress(event) {
      table.progress(event);
      detail.progress(event);
    },
    paused: () => queueControl.apply("paused"),
    resumed: () => queueControl.apply("resumed"),
    state: setConnection,
    reopened() {
      syncStats();
      queueControl.sync();
      table.load();
    },
  });

  syncStats();
  queueControl.sync();
  schedules.sync();
  taskStats.sync();
  chart.sync();
  setInterval(() => {
    syncStats();
    queueControl.sync();
    schedules.sync();
    taskStats.sync();
    chart.sync();
  }, STATS_EVERY_MS);
  table.load();

  const openFromHash = () => {
    const match = /^#job=(.+)$/.exec(location.hash);
    if (match) detail.open(decodeURIComponent(match[1]));
  };
  window.addEventListener("hashchange", openFromHash);
  openFromHash();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
