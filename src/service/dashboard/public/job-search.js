// The search box of the job table: a task name filters the table by that
// task; anything else is looked up as a job id and opens its detail.
import { ApiError, getJob } from "./api.js";
import { byId, el, setChildren } from "./dom.js";

export function createJobSearch({ onTask, onJob }) {
  const form = byId("search-form");
  const input = byId("search");
  const list = byId("search-tasks");
  const message = byId("search-message");
  let tasks = [];

  function say(text) {
    message.textContent = text;
    message.hidden = text === "";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = input.value.trim();
    say("");
    if (query === "") return;
    if (tasks.includes(query)) {
      onTask(query);
      return;
    }
    try {
      const job = await getJob(query);
      onJob(job.job_id);
    } catch (error) {
      say(
        error instanceof ApiError && error.status === 404
          ? `No job or task is called “${query}”`
          : `Could not search: ${error.message}`,
      );
    }
  });
  input.addEventListener("input", () => say(""));

  return {
    /** The task names the box completes and filters by. */
    setTasks(names) {
      tasks = [...names];
      setChildren(
        list,
        tasks.map((t) => el("option", { value: t })),
      );
    },
  };
}
