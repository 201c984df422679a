import { displayModule } from "../caller-module.js";
import { boundStack, ErrorCode, type ErrorCodeValue, jobError, serializeError } from "../errors.js";
import { findTask } from "../registry.js";
import type { TaskDefinition } from "../task-definition.js";
import type { RunRequest, WorkerErrorPayload } from "./protocol.js";
import { loaderHint } from "./thread-loader.js";
import { data } from "./worker-env.js";
import { retire } from "./worker-turns.js";

export function payload(error: unknown): WorkerErrorPayload {
  return { rapidaiError: true, ...serializeError(error) };
}

/**
 * An error the engine makes: its own stack would only show this file, so it
 * carries the stack of what caused it (a module's import error), or none.
 */
export function codedPayload(
  code: ErrorCodeValue,
  message: string,
  cause?: unknown,
): WorkerErrorPayload {
  const { stack: _, ...made } = payload(jobError(code, message));
  const from = cause instanceof Error && typeof cause.stack === "string" ? cause.stack : undefined;
  return from === undefined ? made : { ...made, stack: boundStack(from) };
}

/** Tasks found so far, by name. */
export const tasks = new Map<string, TaskDefinition>();
const imports = new Map<string, Promise<unknown>>();
/** Modules imported ahead of their first job here (see warm), not yet waited on by a job. */
const warming = new Set<string>();

/**
 * Starts importing a module that imported fine on another thread, so that
 * its first job here does not wait for it. Its errors are the first job's
 * to report (load), under the import time limit from then on.
 */
export function warm(url: string): void {
  if (imports.has(url)) return;
  const loading = import(url);
  loading.catch(() => {});
  imports.set(url, loading);
  warming.add(url);
}

/**
 * Waits for a module's import, or gives up after `importTimeoutMs`: a
 * top-level await that never settles would hold the job and this thread for
 * good. The import cannot be called off, so the thread retires, and jobs of
 * that module still queued here fail at once.
 */
function importModule(loading: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      retire();
      reject(
        new Error(
          `it did not finish within ${data.importTimeoutMs} ms (a top-level await that never settles?)`,
        ),
      );
    }, data.importTimeoutMs);
  });
  return Promise.race([loading, timeout]).finally(() => clearTimeout(timer));
}

export async function load(req: RunRequest): Promise<TaskDefinition> {
  if (req.module === "") {
    throw codedPayload(ErrorCode.UNKNOWN_TASK, `task "${req.task}" has no module to load it from`);
  }
  let loading = imports.get(req.module);
  if (loading === undefined || warming.delete(req.module)) {
    loading = importModule(loading ?? import(req.module));
    imports.set(req.module, loading);
  }
  try {
    await loading;
  } catch (error) {
    throw codedPayload(
      ErrorCode.TASK_MODULE_IMPORT,
      `the module of task "${req.task}" (${displayModule(req.module)}) failed to import: ${(error as Error)?.message ?? error}${loaderHint(error)}`,
      error,
    );
  }
  const def = findTask(req.task);
  if (def === undefined) {
    throw codedPayload(
      ErrorCode.UNKNOWN_TASK,
      `task "${req.task}" is not defined by ${displayModule(req.module)}`,
    );
  }
  tasks.set(req.task, def);
  return def;
}
