import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** `demo` names the demo tasks shipped with the package. */
const DEMO_MODULE = new URL("../demo/tasks.js", import.meta.url).href;

/**
 * Imports a task module named on the command line (a path, a file URL, or
 * `demo`), so its `background()` calls register its tasks in this process.
 */
export async function importTaskModule(spec: string): Promise<void> {
  const url =
    spec === "demo" ? DEMO_MODULE : /^file:/i.test(spec) ? spec : pathToFileURL(resolve(spec)).href;
  try {
    await import(url);
  } catch (error) {
    throw new Error(`cannot import task module ${spec}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
