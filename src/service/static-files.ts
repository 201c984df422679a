import { readFile, realpath, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Where the build puts the dashboard page, beside the compiled service. */
export const DEFAULT_DASHBOARD_DIR = new URL("./dashboard/public/", import.meta.url);

/** Only these kinds of file are served; anything else is a 404. */
const CONTENT_TYPES: Partial<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rapidai-jobs</title></head>
<body><h1>rapidai-jobs</h1>
<p>The dashboard is not built. Run <code>npm run build</code>; the JSON API
(<code>/jobs</code>, <code>/api/stats</code>, <code>/events</code>, <code>/metrics</code>) works without it.</p>
</body></html>
`;

/**
 * The file under `root` that a request path names, or undefined when the
 * path is malformed, leaves `root` (`..`, encoded or not; a symlink out), or
 * names something that is not a regular file of an allowed type.
 */
export async function resolveStaticFile(
  root: string,
  requestPath: string,
): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const parts = decoded.split("/").filter((p) => p.length > 0);
  if (parts.some((p) => p === "." || p === ".." || p.startsWith("."))) return undefined;
  if (CONTENT_TYPES[extname(decoded).toLowerCase()] === undefined) return undefined;
  const file = resolve(root, ...parts);
  if (!file.startsWith(root + sep)) return undefined;
  try {
    const real = await realpath(file);
    if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/** Headers that keep the page from being framed, sniffed, or leaking a `?token=` in a Referer. */
function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("x-content-type-options", "nosniff")
    .header("x-frame-options", "DENY")
    .header("referrer-policy", "no-referrer")
    .header("cache-control", "no-cache");
}

/**
 * Serves the dashboard: `GET /` is its `index.html`, `GET /dashboard/*` its
 * other files. A tiny handler rather than a static-file plugin: a fixed set
 * of content types, no directory listings, no dotfiles, no way out of the
 * directory. Without a built dashboard, `/` says so in a small page.
 */
export function installStaticFiles(app: FastifyInstance, dir: URL | string): void {
  const configured = typeof dir === "string" ? resolve(dir) : fileURLToPath(dir);
  // Resolved once, so the containment check compares real paths on both sides.
  const root = realpath(configured).catch(() => undefined);

  const send = async (reply: FastifyReply, path: string) => {
    const base = await root;
    const file = base === undefined ? undefined : await resolveStaticFile(base, path);
    if (file === undefined) return reply.code(404).send({ error: "Not found" });
    const type = CONTENT_TYPES[extname(file).toLowerCase()]!;
    return pageHeaders(reply)
      .type(type)
      .send(await readFile(file));
  };

  app.get("/", { config: { queryToken: true } }, async (_request, reply) => {
    if ((await root) === undefined) {
      return pageHeaders(reply).type("text/html; charset=utf-8").send(NOT_BUILT);
    }
    return send(reply, "index.html");
  });
  app.get<{ Params: { "*": string } }>(
    "/dashboard/*",
    { config: { queryToken: true } },
    async (request, reply) => send(reply, request.params["*"]),
  );
}
