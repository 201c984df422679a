// The detail drawer of one job: arguments, result or error, attempts,
// timings, and a live progress bar while it runs. It re-reads the job when
// one of its status events arrives, and moves the bar on progress events.
import { ApiError, getJob, getJobLogs } from "./api.js";
import { actionButtons, dependencySection, dueFact, logSection } from "./detail-sections.js";
import { byId, el, setChildren, throttle } from "./dom.js";
import { stackSection } from "./error-stack.js";
import { elapsed, formatDuration, formatFullTime, formatJson, progressFraction } from "./format.js";
import { isDelayed, statusBadge } from "./job-table.js";

const ACTIVE = new Set(["pending", "running"]);

export function createJobDetail({ onCancel, onRetry, onPromote, onOpenChange }) {
  const drawer = byId("detail");
  const body = byId("detail-body");
  const title = byId("detail-title");
  const idLine = byId("detail-id");
  const closeButton = byId("detail-close");

  let openId = "";
  let job;
  /** The open job's log lines (undefined when the service keeps none). */
  let logs;
  let seq = 0;
  let returnFocus = null;
  /** The progress bar's parts, while one is on screen. */
  let bar;
  /** The "running for" value, ticking while the job runs. */
  let durationCell;

  function fact(label, value) {
    return [el("dt", {}, label), el("dd", {}, value)];
  }

  function progressBlock(progress) {
    const fraction = progressFraction(progress);
    const fill = el("div", { className: "progress-fill" });
    const label = el("span", { className: "progress-label" });
    const track = el(
      "div",
      {
        className: "progress-track",
        attrs: {
          role: "progressbar",
          "aria-valuemin": "0",
          "aria-valuemax": "100",
          "aria-label": "Progress",
        },
      },
      fill,
    );
    bar = { fill, label, track };
    setProgress(progress, fraction);
    return el("section", { className: "detail-section" }, el("h3", {}, "Progress"), track, label);
  }

  function setProgress(progress, fraction = progressFraction(progress)) {
    if (!bar) return;
    if (fraction === undefined) {
      bar.track.classList.add("indeterminate");
      bar.track.removeAttribute("aria-valuenow");
      bar.fill.style.width = "";
      bar.label.textContent =
        progress === undefined || progress === null ? "Running…" : formatJson(progress);
    } else {
      const pct = Math.round(fraction * 1000) / 10;
      bar.track.classList.remove("indeterminate");
      bar.track.setAttribute("aria-valuenow", String(pct));
      bar.fill.style.width = `${pct}%`;
      bar.label.textContent = `${pct}%`;
    }
  }

  function codeBlock(heading, value, className = "") {
    return el(
      "section",
      { className: "detail-section" },
      el("h3", {}, heading),
      el("pre", { className: `json ${className}` }, formatJson(value)),
    );
  }

  function render() {
    bar = undefined;
    durationCell = undefined;
    if (!job) return;
    title.textContent = job.task ?? "Job";
    idLine.textContent = job.job_id;
    const active = ACTIVE.has(job.status);
    const maxRetries = typeof job.max_retries === "number" ? job.max_retries : undefined;
    const duration =
      typeof job.duration === "number"
        ? job.duration * 1000
        : job.status === "running"
          ? elapsed(job.started_at, Date.now())
          : undefined;
    setChildren(
      body,
      el(
        "div",
        { className: "detail-status" },
        statusBadge(job.status, undefined, job.attempts, isDelayed(job)),
        actionButtons(job, { onCancel, onRetry, onPromote }),
      ),
      (job.status === "running" || job.progress !== undefined) &&
        active &&
        progressBlock(job.progress),
      el(
        "dl",
        { className: "facts" },
        fact(
          "Attempts",
          // A job retried by hand gets a fresh budget: "3 of 1" would read as a bug.
          maxRetries === undefined || (job.attempts ?? 0) > maxRetries + 1
            ? String(job.attempts ?? 0)
            : `${job.attempts ?? 0} of ${maxRetries + 1}`,
        ),
        fact("Max retries", maxRetries === undefined ? "—" : String(maxRetries)),
        fact("Created", formatFullTime(job.created_at)),
        dueFact(job),
        fact("Started", formatFullTime(job.started_at)),
        fact("Completed", formatFullTime(job.completed_at)),
        el("dt", {}, job.status === "running" ? "Running for" : "Duration"),
        (durationCell = el("dd", {}, formatDuration(duration))),
      ),
      dependencySection(job, (id) => api.open(id)),
      codeBlock("Arguments", job.args),
      job.status === "completed" && codeBlock("Result", job.result, "ok"),
      job.error !== undefined &&
        el(
          "section",
          { className: "detail-section" },
          el(
            "h3",
            {},
            "Error",
            job.error_code && el("code", { className: "error-code" }, job.error_code),
          ),
          el("pre", { className: "json bad" }, String(job.error)),
        ),
      stackSection(job),
      job.last_error !== undefined &&
        el(
          "section",
          { className: "detail-section" },
          el(
            "h3",
            {},
            "Last attempt's error",
            job.error_code && el("code", { className: "error-code" }, job.error_code),
          ),
          el("pre", { className: "json bad" }, String(job.last_error)),
        ),
      logSection(logs),
    );
  }

  async function load() {
    const mine = ++seq;
    const id = openId;
    try {
      // The log is optional: a service without the route still shows the job.
      const [data, log] = await Promise.all([
        getJob(id, { stack: true }),
        getJobLogs(id).catch(() => undefined),
      ]);
      if (mine !== seq || id !== openId) return;
      job = data;
      logs = Array.isArray(log?.logs) ? log.logs : undefined;
      render();
    } catch (error) {
      if (mine !== seq || id !== openId) return;
      job = undefined;
      title.textContent = "Job";
      idLine.textContent = id;
      setChildren(
        body,
        el(
          "p",
          { className: "detail-missing" },
          error instanceof ApiError && error.status === 404
            ? "This job is not (or no longer) in the queue."
            : `Could not load the job: ${error.message}`,
        ),
      );
    }
  }

  const reload = throttle(() => {
    if (openId) load();
  }, 250);

  function close() {
    if (!openId) return;
    openId = "";
    job = undefined;
    seq++;
    drawer.hidden = true;
    document.body.classList.remove("drawer-open");
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    onOpenChange("");
    if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus();
  }

  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && openId && !document.querySelector("dialog[open]")) close();
  });

  // Running jobs: keep the "running for" line moving.
  setInterval(() => {
    if (job?.status === "running" && !drawer.hidden) {
      if (durationCell)
        durationCell.textContent = formatDuration(elapsed(job.started_at, Date.now()));
    }
  }, 1000);

  const api = {
    /** Opens the drawer on job `id` and loads it. */
    open(id) {
      if (!id) return;
      if (openId !== id) returnFocus = document.activeElement;
      openId = id;
      job = undefined;
      logs = undefined;
      title.textContent = "Job";
      idLine.textContent = id;
      setChildren(body, el("p", { className: "detail-missing" }, "Loading…"));
      drawer.hidden = false;
      document.body.classList.add("drawer-open");
      const hash = `#job=${encodeURIComponent(id)}`;
      if (location.hash !== hash) history.replaceState(null, "", hash);
      onOpenChange(id);
      closeButton.focus({ preventScroll: true });
      load();
    },
    close,
    /** While events are paused: re-read the open job. */
    poll() {
      if (openId) reload();
    },
    /** A status event: re-read the open job when it is the one that changed. */
    apply(event) {
      if (event.job_id !== openId) return;
      if (job) {
        job.status = event.to;
        if (typeof event.attempts === "number") job.attempts = event.attempts;
      }
      reload();
    },
    /** A progress event: move the bar of the open job. */
    progress(event) {
      if (event.job_id !== openId || !job) return;
      job.progress = event.progress;
      if (bar) setProgress(event.progress);
      else if (job.status === "running") render();
    },
    /** Re-reads the open job now (after an action on it). */
    reload() {
      if (openId) load();
    },
  };
  return api;
}
