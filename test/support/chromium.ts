/**
 * Headless Chromium for the dashboard's browser tests: the Debian package
 * `chromium`, driven by playwright-core (which ships no browser of its own).
 * Without the binary the tests skip with one loud line, unless env CI is set,
 * where they fail: CI installs it (see .ci/run).
 */
import { type Browser, chromium } from "playwright-core";
import { requirement } from "./requirement.js";

const chromiumRequirement = requirement({
  envVar: "CHROMIUM_BIN",
  names: ["chromium", "chromium-browser"],
  first: ["/usr/bin/chromium"],
  message:
    "chromium not found (apt-get install chromium, or set CHROMIUM_BIN): dashboard browser tests are SKIPPED",
});

/** Path of the Chromium binary (env `CHROMIUM_BIN`, then /usr/bin/chromium, then PATH), or undefined. */
export const chromiumBinary = chromiumRequirement.binary;

/** `describe` that skips the whole suite (or fails under CI) when Chromium is missing. */
export const describeWithChromium = chromiumRequirement.describe;

/** A suite registered through the API it is given: without Chromium each test shows as skipped. */
export const suiteWithChromium = chromiumRequirement.suite;

/** Launches headless Chromium with the flags that keep it quiet and offline. */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumBinary();
  if (!executablePath) throw new Error(chromiumRequirement.missing() ?? "chromium not found");
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
