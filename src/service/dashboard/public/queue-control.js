// The queue as a whole: the paused banner with its pause/resume toggle, and
// the clean dialog that deletes finished jobs. The paused state is read from
// `GET /queue` with the counters, and at once after a click or a
// `paused`/`resumed` event, so a pause made elsewhere (the CLI, another tab,
// another process) shows within one re-sync.
import { cleanJobs, getQueueState, setQueuePaused } from "./api.js";
import { byId } from "./dom.js";
import { formatCount } from "./format.js";
import { toast } from "./toast.js";

export function createQueueControl({ onCleaned }) {
  const banner = byId("paused-banner");
  const toggle = byId("queue-toggle");
  const bannerResume = byId("paused-resume");
  const cleanButton = byId("clean-open");
  const dialog = byId("clean-dialog");
  const form = byId("clean-form");
  const statusSelect = byId("clean-status");
  const ageSelect = byId("clean-age");
  const cancelButton = byId("clean-cancel");

  /** Undefined until the service answered: the controls stay hidden on a queue without them. */
  let paused;
  let seq = 0;

  function show(next) {
    paused = next;
    banner.hidden = !paused;
    toggle.hidden = false;
    toggle.dataset.paused = String(paused);
    toggle.textContent = paused ? "Resume queue" : "Pause queue";
    toggle.setAttribute("aria-pressed", String(paused));
    document.body.classList.toggle("queue-paused", paused);
  }

  async function sync() {
    const mine = ++seq;
    try {
      const state = await getQueueState();
      if (mine === seq && typeof state?.paused === "boolean") show(state.paused);
    } catch {
      // A service without the route (or down): keep what is shown; retried on the next tick.
    }
  }

  async function setPaused(next) {
    toggle.disabled = true;
    bannerResume.disabled = true;
    try {
      const state = await setQueuePaused(next);
      seq++;
      show(state.paused === true);
      toast(next ? "Queue paused: no new job starts" : "Queue resumed", "success");
    } catch (error) {
      toast(`Could not ${next ? "pause" : "resume"} the queue: ${error.message}`, "error");
      sync();
    } finally {
      toggle.disabled = false;
      bannerResume.disabled = false;
    }
  }

  toggle.addEventListener("click", () => setPaused(!paused));
  bannerResume.addEventListener("click", () => setPaused(false));

  cleanButton.addEventListener("click", () => dialog.showModal());
  cancelButton.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = statusSelect.value;
    const olderThan = Number(ageSelect.value) || 0;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const { removed } = await cleanJobs(status, olderThan);
      dialog.close();
      toast(`Removed ${formatCount(removed)} ${status} job${removed === 1 ? "" : "s"}`, "success");
      onCleaned();
    } catch (error) {
      toast(`Could not clean: ${error.message}`, "error");
    } finally {
      submit.disabled = false;
    }
  });

  return {
    sync,
    /** A `paused` or `resumed` event from the stream. */
    apply(name) {
      seq++;
      show(name === "paused");
    },
  };
}
