/**
 * Headless Chromium for the dashboard's browser tests: the Debian package
 * `chromium`, driven by playwright-core (which ships no browser of its own).
 * Without the binary the tests skip with one loud line, unless env CI is set,
 * where they fail: CI installs it (see .ci/run).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe } from "node:test";
import { type Browser, chromium } from "playwright-core";

let binaryCache: string | null | undefined;

/** Path of the Chromium binary (env `CHROMIUM_BIN`, then /usr/bin/chromium, then PATH), or undefined. */
export function chromiumBinary(): string | undefined {
  if (binaryCache !== undefined) return binaryCache ?? undefined;
  const candidates: string[] = [];
  if (process.env.CHROMIUM_BIN) candidates.push(process.env.CHROMIUM_BIN);
  candidates.push("/usr/bin/chromium");
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir) candidates.push(join(dir, "chromium"), join(dir, "chromium-browser"));
  }
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      binaryCache = c;
      return c;
    } catch {}
  }
  binaryCache = null;
  return undefined;
}

const MISSING =
  "chromium not found (apt-get install chromium, or set CHROMIUM_BIN): dashboard browser tests are SKIPPED";
let warned = false;

function missingChromium(): string | undefined {
  if (chromiumBinary()) return undefined;
  if (process.env.CI) throw new Error(`${MISSING.split(":")[0]}, and CI is set: failing`);
  if (!warned) {
    warned = true;
    console.warn(`\n!!!!! ${MISSING} !!!!!\n`);
  }
  return MISSING;
}

/** `describe` that skips the whole suite (or fails under CI) when Chromium is missing. */
export function describeWithChromium(name: string, fn: () => void): void {
  const reason = missingChromium();
  if (reason) describe(name, { skip: reason }, () => {});
  else describe(name, fn);
}

/** Launches headless Chromium with the flags that keep it quiet and offline. */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumBinary();
  if (!executablePath) throw new Error(MISSING);
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
