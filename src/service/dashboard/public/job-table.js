// The job table: one page at a time from the server (limit/offset, newest
// first), never the whole list. Visible rows change in place as their jobs'
// events arrive; new jobs appear by re-reading the page, at most once a second.
import { listJobs } from "./api.js";
import { byId, el, perFrame, setChildren, throttle } from "./dom.js";
import {
  elapsed,
  formatCount,
  formatDuration,
  formatRelative,
  formatTime,
  formatTooltipTime,
  progressFraction,
  statusLabel,
  toDate,
} from "./format.js";

const ACTIVE = new Set(["pending", "running"]);
const REFRESH_MS = 1000;
/** Status events kept while a page is loading; past this, the page is simply read again. */
const MAX_REPLAY = 5000;

/**
 * A status badge ("Retrying" for a pending job that already ran), with a thin
 * progress bar under it for a running job that reports one.
 */
export function statusBadge(status, progress, attempts = 0, delayed = false) {
  const label =
    status === "pending" && attempts > 0 ? "Retrying" : delayed ? "Delayed" : statusLabel(status);
  const badge = el("span", { className: `status status-${status}` }, label);
  const fraction = status === "running" ? progressFraction(progress) : undefined;
  if (fraction === undefined) return badge;
  return el(
    "span",
    { className: "status-with-progress" },
    badge,
    el(
      "span",
      { className: "mini-progress", title: `${Math.round(fraction * 100)}%` },
      el("span", {
        className: "mini-progress-fill",
        style: `width:${(fraction * 100).toFixed(1)}%`,
      }),
    ),
  );
}

/** True for a pending job that is not due yet (a delay, or a retry's backoff). */
export function isDelayed(job, now = Date.now()) {
  const due = toDate(job.run_at);
  return job.status === "pending" && due !== undefined && due.getTime() > now;
}

/** `due 01:40:05` under the badge of a delayed job, its distance in the tooltip. */
function dueNote(job) {
  if (!isDelayed(job)) return false;
  return el(
    "span",
    {
      className: "due-note",
      title: `${formatTooltipTime(job.run_at)} (${formatRelative(job.run_at)})`,
    },
    `due ${formatTime(job.run_at)}`,
  );
}

/** Duration of a job so far (running) or in total (finished). */
export function jobDuration(job, now = Date.now()) {
  if (job.status === "running") return elapsed(job.started_at, now);
  if (job.completed_at) return elapsed(job.started_at ?? job.created_at, job.completed_at);
  return undefined;
}

export function createJobTable({ onOpen, onCancel, onFilter }) {
  const body = byId("jobs-body");
  const wrap = byId("jobs").parentElement;
  const empty = byId("jobs-empty");
  const info = byId("page-info");
  const prev = byId("page-prev");
  const next = byId("page-next");
  const fresh = byId("table-fresh");
  const statusSelect = byId("filter-status");
  const taskSelect = byId("filter-task");
  const sizeSelect = byId("page-size");

  const state = { status: "", task: "", limit: Number(sizeSelect.value) || 25, offset: 0 };
  /** job_id → { job, tr } for the rows on screen. */
  let rows = new Map();
  let total;
  let pageLength = 0;
  let seq = 0;
  let selectedId = "";
  let flashId = "";
  let pointerInside = false;
  let refreshWanted = false;
  const dirty = new Set();
  /**
   * Status events that arrived while a page was on its way: the server may
   * have answered before they happened, so they are applied to the page once
   * it is on screen. Undefined when no page is loading.
   */
  let replay;
  let replayOverflow = false;
  /** A page request is on its way; refreshes wait for it rather than replace it. */
  let loading = false;
  let refreshAfterLoad = false;

  /** Moves a row's job to the state an event describes. */
  function applyToRow(entry, event) {
    const job = entry.job;
    job.status = event.to;
    if (typeof event.attempts === "number") job.attempts = event.attempts;
    if (event.to !== "pending") job.run_at = null;
    if (event.to === "running") {
      job.started_at = event.at;
      job.completed_at = null;
    } else if (!ACTIVE.has(event.to)) job.completed_at = event.at;
    if (event.to !== "running") job.progress = undefined;
    dirty.add(job.job_id);
  }

  function renderRow(entry) {
    const { job, tr } = entry;
    const active = ACTIVE.has(job.status);
    tr.className = job.job_id === selectedId ? "selected" : "";
    tr.dataset.status = job.status;
    setChildren(
      tr,
      el(
        "td",
        { className: "id-cell" },
        el(
          "button",
          {
            type: "button",
            className: "job-link",
            title: job.job_id,
            dataset: { open: job.job_id },
          },
          job.job_id,
        ),
      ),
      el("td", { className: "task-cell" }, job.task ?? ""),
      el(
        "td",
        { className: "status-cell" },
        statusBadge(job.status, job.progress, job.attempts, isDelayed(job)),
        dueNote(job),
      ),
      el("td", { className: "num hide-narrow" }, String(job.attempts ?? 0)),
      el(
        "td",
        { className: "created hide-phone", title: formatTooltipTime(job.created_at) },
        formatTime(job.created_at),
      ),
      el("td", { className: "num duration hide-phone" }, formatDuration(jobDuration(job))),
      el(
        "td",
        { className: "actions" },
        active &&
          el(
            "button",
            {
              type: "button",
              className: "danger small",
              dataset: { cancel: job.job_id },
              attrs: { "aria-label": `Cancel job ${job.job_id}` },
            },
            "Cancel",
          ),
      ),
    );
  }

  const flush = perFrame(() => {
    for (const id of dirty) {
      const entry = rows.get(id);
      if (entry) renderRow(entry);
    }
    dirty.clear();
  });

  function renderPage(jobs) {
    const nextRows = new Map();
    const trs = [];
    for (const job of jobs) {
      // Reuse the row element, so focus and hover survive a refresh.
      const tr = rows.get(job.job_id)?.tr ?? el("tr", { dataset: { jobId: job.job_id } });
      const entry = { job: { ...rows.get(job.job_id)?.job, ...job }, tr };
      nextRows.set(job.job_id, entry);
      renderRow(entry);
      if (job.job_id === flashId) {
        tr.classList.add("flash");
        flashId = "";
      }
      trs.push(tr);
    }
    rows = nextRows;
    dirty.clear();
    body.replaceChildren(...trs);
    empty.hidden = jobs.length > 0;
    pageLength = jobs.length;
    renderPager();
  }

  function renderPager() {
    const from = pageLength === 0 ? 0 : state.offset + 1;
    const to = state.offset + pageLength;
    if (total !== undefined) {
      info.textContent =
        total === 0
          ? "No jobs"
          : `${formatCount(from)}–${formatCount(to)} of ${formatCount(total)}`;
    } else {
      info.textContent = pageLength === 0 ? "No jobs" : `${formatCount(from)}–${formatCount(to)}`;
    }
    prev.disabled = state.offset === 0;
    next.disabled = total !== undefined ? to >= total : pageLength < state.limit;
  }

  async function load() {
    const mine = ++seq;
    loading = true;
    replay ??= [];
    refreshWanted = false;
    fresh.hidden = true;
    wrap.classList.add("loading");
    try {
      const page = await listJobs(state);
      if (mine !== seq) return;
      const jobs = Array.isArray(page?.jobs) ? page.jobs : [];
      total = typeof page?.total === "number" ? page.total : undefined;
      // The page emptied under us (jobs were removed): step back to the last one.
      if (jobs.length === 0 && state.offset > 0) {
        state.offset =
          total !== undefined
            ? Math.max(0, Math.floor((total - 1) / state.limit) * state.limit)
            : Math.max(0, state.offset - state.limit);
        return load();
      }
      renderPage(jobs);
      // Events are transitions in order: replaying ones the page already shows ends in the same state.
      for (const event of replay ?? []) {
        const entry = rows.get(event.job_id);
        if (entry) applyToRow(entry, event);
      }
      if (dirty.size > 0) flush();
      if (replayOverflow) refreshAfterLoad = true;
    } catch (error) {
      if (mine !== seq) return;
      info.textContent = `Could not load jobs: ${error.message}`;
    } finally {
      if (mine === seq) {
        wrap.classList.remove("loading");
        replay = undefined;
        replayOverflow = false;
        loading = false;
        if (refreshAfterLoad) {
          refreshAfterLoad = false;
          refreshSoon();
        }
      }
    }
  }

  const refreshSoon = throttle(() => {
    if (loading) {
      // On a busy server a page can take longer than the throttle: starting
      // another would discard this one, and the table would never catch up.
      refreshAfterLoad = true;
      return;
    }
    if (pointerInside) {
      // Rows moving under the pointer lead to clicks on the wrong job.
      refreshWanted = true;
      fresh.hidden = false;
      return;
    }
    load();
  }, REFRESH_MS);

  function setFilter(patch) {
    Object.assign(state, patch, { offset: 0 });
    statusSelect.value = state.status;
    taskSelect.value = state.task;
    onFilter?.(state.status, state.task);
    load();
  }

  statusSelect.addEventListener("change", () => setFilter({ status: statusSelect.value }));
  taskSelect.addEventListener("change", () => setFilter({ task: taskSelect.value }));
  sizeSelect.addEventListener("change", () => setFilter({ limit: Number(sizeSelect.value) || 25 }));
  prev.addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit);
    load();
  });
  next.addEventListener("click", () => {
    state.offset += state.limit;
    load();
  });
  fresh.addEventListener("click", () => load());
  wrap.addEventListener("pointerenter", () => {
    pointerInside = true;
  });
  wrap.addEventListener("pointerleave", () => {
    pointerInside = false;
    if (refreshWanted && state.offset === 0) load();
  });
  body.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const cancel = target?.closest("[data-cancel]");
    if (cancel) {
      event.stopPropagation();
      cancel.disabled = true;
      onCancel(cancel.dataset.cancel);
      return;
    }
    const tr = target?.closest("tr[data-job-id]");
    if (tr) onOpen(tr.dataset.jobId);
  });

  // Running rows show how long they have been running.
  setInterval(() => {
    for (const [id, entry] of rows) if (entry.job.status === "running") dirty.add(id);
    if (dirty.size > 0) flush();
  }, 1000);

  const matchesTask = (task) => !state.task || state.task === task;

  return {
    load,
    setFilter,
    get filter() {
      return { status: state.status, task: state.task };
    },
    /** Sets the task names the filter offers. */
    setTasks(tasks) {
      const current = taskSelect.value;
      const names = [...new Set([...tasks, ...(current ? [current] : [])])].sort();
      setChildren(
        taskSelect,
        el("option", { value: "" }, "All"),
        names.map((t) => el("option", { value: t }, t)),
      );
      taskSelect.value = current;
    },
    /** Applies one status event to its row, and re-reads the page when the event changes which jobs belong on it. */
    apply(event) {
      if (replay) {
        if (replay.length < MAX_REPLAY) replay.push(event);
        else replayOverflow = true;
      }
      const entry = rows.get(event.job_id);
      if (entry) {
        applyToRow(entry, event);
        flush();
      }
      if (!matchesTask(event.task)) return;
      const created = event.from === null || event.from === undefined;
      const enters = state.status ? event.to === state.status : created;
      const leaves = state.status !== "" && entry !== undefined && event.to !== state.status;
      if (!enters && !leaves) return;
      if (state.offset === 0) refreshSoon();
      else fresh.hidden = false;
    },
    /** While events are paused: the first page is read again; on later pages, a button offers it. */
    poll() {
      if (state.offset === 0) refreshSoon();
      else fresh.hidden = false;
    },
    /** After a burst of events: the first page is read again so its total is exact. */
    settle() {
      if (state.offset === 0) refreshSoon();
    },
    /** Shows a running job's progress in its row. */
    progress(event) {
      const entry = rows.get(event.job_id);
      if (!entry) return;
      entry.job.progress = event.progress;
      dirty.add(event.job_id);
      flush();
    },
    /** Marks the row whose detail is open. */
    select(id) {
      const before = rows.get(selectedId);
      selectedId = id;
      if (before) dirty.add(before.job.job_id);
      if (rows.has(id)) dirty.add(id);
      flush();
    },
    /** Flashes the row of `id` when it first appears (a job just enqueued). */
    flash(id) {
      flashId = id;
    },
  };
}
