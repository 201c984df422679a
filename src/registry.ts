import { displayModule } from "./caller-module.js";
import { ErrorCode, jobError } from "./errors.js";
import type { TaskDefinition } from "./task-definition.js";

/**
 * Task name → definition, for this thread. It lives on `globalThis` under a
 * registered symbol so that two copies of this package loaded in one thread
 * (a bundled copy and an installed one) still share one registry.
 */
const KEY = Symbol.for("rapidai.background.registry");
type Registry = Map<string, TaskDefinition>;

function registry(): Registry {
  const g = globalThis as { [KEY]?: Registry };
  let r = g[KEY];
  if (r === undefined) {
    r = new Map();
    g[KEY] = r;
  }
  return r;
}

/**
 * Adds a task. The same name from the same module replaces the old entry (a
 * module evaluated twice, e.g. with a cache-busting query); from another
 * module it is `ERR_DUPLICATE_TASK`, since jobs find tasks by name alone.
 */
export function registerTask(def: TaskDefinition): void {
  const r = registry();
  const existing = r.get(def.name);
  if (existing !== undefined && existing.moduleUrl !== def.moduleUrl) {
    throw jobError(
      ErrorCode.DUPLICATE_TASK,
      `task "${def.name}" is already defined in ${displayModule(existing.moduleUrl ?? "(unknown module)")}; ` +
        "give one of them another `name`",
    );
  }
  r.set(def.name, def);
}

/** The task of that name in this thread, if any. */
export function findTask(name: string): TaskDefinition | undefined {
  return registry().get(name);
}

/** The task of that name, or `ERR_UNKNOWN_TASK`. */
export function requireTask(name: string): TaskDefinition {
  const def = registry().get(name);
  if (def === undefined) throw jobError(ErrorCode.UNKNOWN_TASK, `unknown task "${name}"`);
  return def;
}

/** Every task registered in this thread. */
export function allTasks(): TaskDefinition[] {
  return [...registry().values()];
}
