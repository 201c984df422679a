// The Workers card: every process running the queue's jobs, from
// `GET /workers` (host, pid, threads, jobs held, version, started, last
// heartbeat), polled every few seconds since heartbeats are not events. A
// process killed without a goodbye drops out once its record's TTL ran out.
import { el, setChildren } from "./dom.js";
import { formatFullTime, formatTime } from "./format.js";
import { authHeaders } from "./token.js";

const POLL_MS = 3_000;

/** "3 s ago", "2 min ago": how old a heartbeat is. */
export function ago(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

function buildCard() {
  const body = el("tbody", { id: "workers-body" });
  const empty = el(
    "p",
    { className: "empty", id: "workers-empty", hidden: true },
    "No worker is running this queue's jobs.",
  );
  const summary = el("span", { className: "rate", id: "workers-summary" });
  const card = el(
    "section",
    {
      className: "card workers-card",
      id: "workers-card",
      attrs: { "aria-labelledby": "workers-title" },
    },
    el("div", { className: "card-head" }, el("h2", { id: "workers-title" }, "Workers"), summary),
    el(
      "div",
      { className: "table-wrap" },
      el(
        "table",
        { className: "jobs workers" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ["Host", "PID", "Queue", "Threads", "Running", "Version", "Started", "Heartbeat"].map(
              (h) =>
                el(
                  "th",
                  {
                    attrs: { scope: "col" },
                    ...(PHONE_HIDDEN.has(h) ? { className: "hide-phone" } : {}),
                  },
                  h,
                ),
            ),
          ),
        ),
        body,
      ),
      empty,
    ),
  );
  return { card, body, empty, summary };
}

/** Columns a phone-wide screen leaves out, so the card never scrolls sideways. */
const PHONE_HIDDEN = new Set(["PID", "Queue", "Threads", "Version", "Started"]);

function render(view, workers) {
  view.empty.hidden = workers.length > 0;
  const threads = workers.reduce((n, w) => n + (w.threads ?? 0), 0);
  const running = workers.reduce((n, w) => n + (w.running ?? 0), 0);
  view.summary.textContent = `${workers.length} process${workers.length === 1 ? "" : "es"} · ${threads} threads · ${running} running`;
  setChildren(
    view.body,
    workers.map((w) =>
      el(
        "tr",
        { dataset: { workerId: String(w.id) } },
        el("td", {}, String(w.host ?? "")),
        el("td", { className: "num hide-phone" }, String(w.pid ?? "")),
        el("td", { className: "hide-phone" }, el("code", {}, String(w.prefix ?? w.backend ?? ""))),
        el("td", { className: "num hide-phone" }, String(w.threads ?? "")),
        el("td", { className: "num" }, String(w.running ?? "")),
        el("td", { className: "hide-phone" }, String(w.version ?? "")),
        el(
          "td",
          { className: "hide-phone", title: formatFullTime(w.started_at) },
          formatTime(w.started_at),
        ),
        el(
          "td",
          { className: "heartbeat", title: formatFullTime(w.heartbeat_at) },
          ago(w.heartbeat_at),
        ),
      ),
    ),
  );
}

async function sync(view) {
  try {
    const response = await fetch("/workers", {
      headers: { Accept: "application/json", ...authHeaders() },
      cache: "no-store",
    });
    if (!response.ok) return;
    const answer = await response.json();
    if (Array.isArray(answer?.workers)) {
      view.card.hidden = false;
      render(view, answer.workers);
    }
  } catch {
    // The service is down for a moment: the card keeps what it showed.
  }
}

const main = document.querySelector("main");
if (main) {
  const view = buildCard();
  view.card.hidden = true;
  main.append(view.card);
  sync(view);
  setInterval(() => sync(view), POLL_MS);
}
