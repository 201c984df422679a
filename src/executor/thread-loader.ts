/**
 * The TypeScript loader of the main thread, carried over to the worker
 * threads. A worker thread imports the module that defined a task; when that
 * module is a `.ts` file, the thread needs the loader the main thread runs
 * under. Node passes the main thread's `execArgv` on to worker threads, but
 * tsx's entry (`tsx service.ts`, `node --import tsx`) registers its hooks on
 * the main thread only, so each worker thread must call tsx's own register
 * API before it imports a task. On Node versions that strip types by default
 * (22.18+, 23.6+) plain `node` needs nothing: worker threads strip types too.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The flags whose value names a module loaded before the entry point.
const LOADER_FLAGS = new Set(["--import", "--loader", "--experimental-loader"]);

/**
 * The module specifiers the process was started with through `--import` or
 * `--loader`, from `execArgv` and from `NODE_OPTIONS` (which `execArgv` does
 * not list), in order.
 */
export function loaderSpecifiers(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string[] {
  // NODE_OPTIONS is split on spaces, as Node does for unquoted values.
  const args = [...execArgv, ...(nodeOptions ?? "").split(/\s+/).filter((a) => a.length > 0)];
  const found: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    if (eq > 0 && LOADER_FLAGS.has(arg.slice(0, eq))) found.push(arg.slice(eq + 1));
    else if (LOADER_FLAGS.has(arg) && i + 1 < args.length) found.push(args[++i]!);
  }
  return found;
}

/** The file a loader specifier names, resolved as Node would from `cwd`; undefined if none. */
function loaderFile(specifier: string, cwd: string): string | undefined {
  try {
    if (specifier.startsWith("file:")) return fileURLToPath(specifier);
    if (specifier.startsWith(".") || isAbsolute(specifier)) return resolve(cwd, specifier);
    // A bare name (`tsx`, `tsx/esm`): Node resolves it from the working directory.
    return createRequire(join(cwd, "noop.js")).resolve(specifier);
  } catch {
    return undefined;
  }
}

/** The root and manifest of the package that holds `file`. */
function owningPackage(file: string): { root: string; manifest: PackageManifest } | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const path = join(dir, "package.json");
    if (existsSync(path)) {
      try {
        const manifest = JSON.parse(readFileSync(path, "utf8")) as PackageManifest;
        if (typeof manifest.name === "string") return { root: dir, manifest };
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

interface PackageManifest {
  name?: unknown;
  exports?: Record<string, unknown>;
}

/** The file URL of tsx's ESM register API (`tsx/esm/api`), read from its `exports`. */
function tsxRegisterApi(root: string, manifest: PackageManifest): string | undefined {
  const entry = manifest.exports?.["./esm/api"];
  const target =
    typeof entry === "string"
      ? entry
      : ((entry as { import?: { default?: unknown } | string } | undefined)?.import ?? undefined);
  const path =
    typeof target === "string" ? target : (target as { default?: unknown } | undefined)?.default;
  if (typeof path !== "string") return undefined;
  return pathToFileURL(join(root, path)).href;
}

/**
 * Modules each worker thread imports before its first task module: one
 * `data:` module per loader that registers only on the main thread. Today
 * that is tsx; other loaders either register in every thread on their own
 * or are not supported. Empty when the process runs under no such loader.
 */
export function threadPreloads(
  execArgv: readonly string[] = process.execArgv,
  cwd: string = process.cwd(),
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string[] {
  const preloads = new Set<string>();
  for (const specifier of loaderSpecifiers(execArgv, nodeOptions)) {
    const file = loaderFile(specifier, cwd);
    if (file === undefined) continue;
    const pkg = owningPackage(file);
    if (pkg?.manifest.name !== "tsx") continue;
    const api = tsxRegisterApi(pkg.root, pkg.manifest);
    if (api === undefined) continue;
    const source = `import { register } from ${JSON.stringify(api)};\nregister();\n`;
    preloads.add(`data:text/javascript,${encodeURIComponent(source)}`);
  }
  return [...preloads];
}

/**
 * What to tell a user whose task module failed to import because the thread
 * has no TypeScript loader; an empty string for any other failure.
 */
export function loaderHint(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== "ERR_UNKNOWN_FILE_EXTENSION") return "";
  return (
    " (a .ts task module needs Node 22.18 or later, which strips types, or the main" +
    " thread started under tsx: `tsx service.ts` or `node --import tsx service.ts`)"
  );
}
