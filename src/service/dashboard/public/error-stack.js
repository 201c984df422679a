// The stack of a failed job's error, in the detail drawer: where the job
// threw, for the operator debugging it. The service keeps it bounded (50
// frames, 8 KiB); it is folded away so the message stays in sight.
import { el } from "./dom.js";

/** The "Stack trace" section of a failed job, or false when it has none. */
export function stackSection(job) {
  if (job.status !== "failed" || typeof job.error_stack !== "string") return false;
  return el(
    "section",
    { className: "detail-section" },
    el(
      "details",
      { className: "error-stack" },
      // Inline, so the heading sits beside the disclosure marker.
      el(
        "summary",
        { attrs: { style: "cursor: pointer" } },
        el("h3", { attrs: { style: "display: inline-flex" } }, "Stack trace"),
      ),
      el("pre", { className: "json bad", id: "detail-stack" }, job.error_stack),
    ),
  );
}
