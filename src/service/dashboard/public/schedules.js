// The schedules card: each cron or interval schedule with its next run and
// the last job it enqueued (a link to that job's detail). Read from
// `GET /schedules` with the counters, since firings are not events.
import { listSchedules } from "./api.js";
import { byId, el, setChildren } from "./dom.js";
import { formatDuration, formatTime, formatTooltipTime } from "./format.js";

/** `cron 0 3 * * * (Europe/Berlin)` or `every 5.00 s`. */
export function scheduleRule(s) {
  if (typeof s.cron === "string") return `cron ${s.cron}${s.tz ? ` (${s.tz})` : ""}`;
  if (typeof s.every_ms === "number") return `every ${formatDuration(s.every_ms)}`;
  return "—";
}

export function createSchedules({ onOpen }) {
  const card = byId("schedules-card");
  const body = byId("schedules-body");
  const empty = byId("schedules-empty");
  let seq = 0;

  function render(schedules) {
    card.hidden = false;
    empty.hidden = schedules.length > 0;
    setChildren(
      body,
      schedules.map((s) =>
        el(
          "tr",
          { dataset: { scheduleId: String(s.id) } },
          el("td", { className: "id-cell" }, el("code", {}, String(s.id))),
          el("td", { className: "hide-phone" }, String(s.task ?? "")),
          el("td", { className: "rule" }, scheduleRule(s)),
          el(
            "td",
            { className: "next-run", title: formatTooltipTime(s.next_run_at) },
            formatTime(s.next_run_at),
          ),
          el(
            "td",
            { className: "last-job" },
            typeof s.last_job_id === "string"
              ? el(
                  "a",
                  {
                    className: "job-link",
                    href: `#job=${encodeURIComponent(s.last_job_id)}`,
                    title: s.last_job_id,
                    on: {
                      click: (event) => {
                        event.preventDefault();
                        onOpen(s.last_job_id);
                      },
                    },
                  },
                  s.last_job_id,
                )
              : "—",
          ),
        ),
      ),
    );
  }

  return {
    async sync() {
      const mine = ++seq;
      try {
        const answer = await listSchedules();
        if (mine === seq && Array.isArray(answer?.schedules)) render(answer.schedules);
      } catch {
        // A service without schedules, or down: the card keeps what it showed.
      }
    },
  };
}
