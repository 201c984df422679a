// The enqueue form: pick a registered task, give JSON arguments. The JSON is
// checked here first; anything the server still refuses is shown as it said.
import { enqueueJob } from "./api.js";
import { byId, el, setChildren } from "./dom.js";

/** Example arguments for the demo tasks, so the form works at first click. */
const EXAMPLES = { fib: "[25]", sleep: "[5000]", fail: '["something went wrong"]' };

/** Parses the arguments field: a JSON array, or an error message for the person typing. */
export function parseArgs(text) {
  const trimmed = text.trim();
  if (trimmed === "") return { args: [] };
  let value;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return { error: `Not valid JSON: ${error.message}` };
  }
  if (!Array.isArray(value)) return { error: "Arguments must be a JSON array, e.g. [25]" };
  return { args: value };
}

export function createEnqueueForm({ onQueued }) {
  const form = byId("enqueue-form");
  const taskSelect = byId("enqueue-task");
  const argsField = byId("enqueue-args");
  const message = byId("enqueue-message");
  const submit = byId("enqueue-submit");
  let tasks = [];

  const example = (task) => EXAMPLES[task] ?? "[]";
  const show = (text, kind, ...extra) => {
    message.className = `form-message ${kind}`;
    setChildren(message, text, ...extra);
  };

  taskSelect.addEventListener("change", () => {
    // Swap the example only when the field still holds one.
    const current = argsField.value.trim();
    if (current === "" || current === "[]" || Object.values(EXAMPLES).includes(current)) {
      argsField.value = example(taskSelect.value);
    }
    show("", "");
  });
  argsField.addEventListener("input", () => {
    argsField.removeAttribute("aria-invalid");
    if (message.classList.contains("error")) show("", "");
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const task = taskSelect.value;
    if (!task) return show("No task is registered with this service.", "error");
    const parsed = parseArgs(argsField.value);
    if (parsed.error) {
      argsField.setAttribute("aria-invalid", "true");
      argsField.focus();
      return show(parsed.error, "error");
    }
    submit.disabled = true;
    try {
      const answer = await enqueueJob(task, parsed.args);
      const id = answer.job_id;
      show(
        "Queued ",
        "success",
        el(
          "button",
          { type: "button", className: "job-link inline", on: { click: () => onQueued(id, true) } },
          id,
        ),
      );
      onQueued(id, false);
    } catch (error) {
      show(error.message, "error");
    } finally {
      submit.disabled = tasks.length === 0;
    }
  });

  return {
    /** Sets the tasks the form offers (from /api/stats). */
    setTasks(names) {
      const next = [...names].sort();
      if (next.join("\n") === tasks.join("\n")) return;
      const current = taskSelect.value;
      tasks = next;
      setChildren(
        taskSelect,
        tasks.map((t) => el("option", { value: t }, t)),
      );
      if (tasks.includes(current)) taskSelect.value = current;
      else if (tasks.length > 0) {
        taskSelect.value = tasks.includes("fib") ? "fib" : tasks[0];
        argsField.value = example(taskSelect.value);
      }
      submit.disabled = tasks.length === 0;
    },
  };
}
