#!/usr/bin/env node
// tsc compiles TypeScript only: copy the dashboard's static files (and the
// uPlot build it uses) next to the compiled service, so `dist/` is complete.
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const from = "src/service/dashboard/public";
const to = "dist/src/service/dashboard/public";
if (existsSync(from)) {
  mkdirSync(to, { recursive: true });
  cpSync(from, to, { recursive: true });
  const require = createRequire(import.meta.url);
  try {
    const uplotDir = join(dirname(require.resolve("uplot/package.json")), "dist");
    cpSync(join(uplotDir, "uPlot.iife.min.js"), join(to, "vendor", "uPlot.iife.min.js"));
    cpSync(join(uplotDir, "uPlot.min.css"), join(to, "vendor", "uPlot.min.css"));
  } catch (error) {
    console.warn(`copy-assets: uPlot not copied (${error.message})`);
  }
}
