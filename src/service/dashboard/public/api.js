// Every call the page makes to the service, with the token on each one.
import { askForToken, authHeaders, getToken } from "./token.js";

/** An answer that was not 2xx: `status` and the server's `error` message. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

async function request(method, path, body, accept = "application/json") {
  const headers = { Accept: accept, ...authHeaders() };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, `Service unreachable (${error.message})`);
  }
  const text = await response.text();
  if (response.ok && accept !== "application/json") return text;
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const message =
      (data && typeof data.error === "string" && data.error) ||
      (data && typeof data.message === "string" && data.message) ||
      `${response.status} ${response.statusText}`;
    if (response.status === 401 || response.status === 403) {
      askForToken(
        getToken()
          ? "The service did not accept this token. Enter the right one."
          : "This service needs an access token.",
      );
    }
    throw new ApiError(response.status, message, data);
  }
  return data;
}

/** `GET /api/stats`: counts by status, task names, backend. */
export function getStats() {
  return request("GET", "/api/stats");
}

/** `GET /api/tasks`: per-task counts, failure rate and p50/p95 duration (seconds). */
export function getTaskStats() {
  return request("GET", "/api/tasks");
}

/** `GET /metrics`: the Prometheus text, read while the event stream is paused. */
export function getMetricsText() {
  return request("GET", "/metrics", undefined, "text/plain");
}

/** `GET /jobs`: one page of jobs, newest first. */
export function listJobs({ status, task, limit, offset }) {
  const q = new URLSearchParams();
  if (status) q.set("status", status);
  if (task) q.set("task", task);
  q.set("limit", String(limit));
  q.set("offset", String(offset));
  return request("GET", `/jobs?${q}`);
}

/** `GET /jobs/:id`: everything known about one job (with `stack`, a failed job's stack too). */
export function getJob(id, { stack = false } = {}) {
  return request("GET", `/jobs/${encodeURIComponent(id)}${stack ? "?include=stack" : ""}`);
}

/** `POST /jobs/:task`: resolves with `{ job_id, status, check_url }`. */
export function enqueueJob(task, args) {
  return request("POST", `/jobs/${encodeURIComponent(task)}`, { args });
}

/** `DELETE /jobs/:id`: cancels a pending or running job. */
export function cancelJob(id) {
  return request("DELETE", `/jobs/${encodeURIComponent(id)}`);
}

/** `POST /jobs/:id/retry`: a failed or cancelled job goes back to pending. */
export function retryJob(id) {
  return request("POST", `/jobs/${encodeURIComponent(id)}/retry`);
}

/** `POST /jobs/:id/promote`: a delayed job may start now. */
export function promoteJob(id) {
  return request("POST", `/jobs/${encodeURIComponent(id)}/promote`);
}

/** `GET /jobs/:id/logs`: `{ job_id, logs: [...] }`, oldest line first. */
export function getJobLogs(id) {
  return request("GET", `/jobs/${encodeURIComponent(id)}/logs`);
}

/** `GET /queue`: `{ paused, counts, backend }`. */
export function getQueueState() {
  return request("GET", "/queue");
}

/** `POST /queue/pause` or `/queue/resume`: resolves with `{ paused }`. */
export function setQueuePaused(paused) {
  return request("POST", paused ? "/queue/pause" : "/queue/resume");
}

/** `POST /queue/clean`: deletes finished jobs of one status; resolves with `{ removed }`. */
export function cleanJobs(status, olderThanMs) {
  return request("POST", "/queue/clean", {
    status,
    ...(olderThanMs > 0 ? { older_than_ms: olderThanMs } : {}),
  });
}

/** `GET /schedules`: `{ schedules: [{ id, task, cron?, every_ms?, tz?, next_run_at, last_job_id? }] }`. */
export function listSchedules() {
  return request("GET", "/schedules");
}
