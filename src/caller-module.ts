import { fileURLToPath, pathToFileURL } from "node:url";

// The directory of this package's compiled sources: frames inside it are ours,
// the first frame outside it is the user's module that called background().
const ownDir = new URL(".", import.meta.url).href;

/**
 * The URL of the module that called into this package, read from the V8
 * stack trace. A worker thread imports that module to find the task again,
 * since a function cannot cross a thread boundary.
 */
export function callerModuleUrl(): string | undefined {
  const original = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames: NodeJS.CallSite[] = [];
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, callerModuleUrl);
    frames = holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = limit;
  }
  for (const frame of frames) {
    const file = frame.getFileName();
    if (file === null || file === undefined || file.startsWith("node:")) continue;
    const url = file.startsWith("file:") ? file : pathToFileURL(file).href;
    if (url.startsWith(ownDir)) continue;
    return url;
  }
  return undefined;
}

/** Normalises a `module` option (path or URL) to a file URL string. */
export function toModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module;
  return pathToFileURL(module).href;
}

/** For messages: a path reads better than a URL. */
export function displayModule(url: string): string {
  try {
    return url.startsWith("file:") ? fileURLToPath(url) : url;
  } catch {
    return url;
  }
}
