/**
 * An outside program some tests need (redis-server, Chromium). Without it
 * those tests skip with one loud line per process, unless env CI is set,
 * where they fail: CI installs what the tests need (see .ci/run).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe } from "node:test";

export interface Requirement {
  /** Path of the binary, or undefined when it is missing. */
  binary(): string | undefined;
  /** Undefined when present; else the skip reason (or it throws under CI). */
  missing(): string | undefined;
  /** `describe` that skips the whole suite (or fails under CI) when the binary is missing. */
  describe(name: string, fn: () => void): void;
}

/**
 * Finds `names` in `envVar`'s path first, then in `first` places, then on
 * PATH, then in `last` places; `message` says what is skipped without it.
 */
export function requirement(options: {
  envVar: string;
  names: string[];
  first?: string[];
  last?: string[];
  message: string;
}): Requirement {
  let cache: string | null | undefined;
  let warned = false;
  const binary = (): string | undefined => {
    if (cache !== undefined) return cache ?? undefined;
    const candidates: string[] = [];
    const fromEnv = process.env[options.envVar];
    if (fromEnv) candidates.push(fromEnv);
    candidates.push(...(options.first ?? []));
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (dir) for (const name of options.names) candidates.push(join(dir, name));
    }
    candidates.push(...(options.last ?? []));
    cache =
      candidates.find((c) => {
        try {
          accessSync(c, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }) ?? null;
    return cache ?? undefined;
  };
  const missing = (): string | undefined => {
    if (binary()) return undefined;
    if (process.env.CI) throw new Error(`${options.message.split(":")[0]}, and CI is set: failing`);
    if (!warned) {
      warned = true;
      console.warn(`\n!!!!! ${options.message} !!!!!\n`);
    }
    return options.message;
  };
  return {
    binary,
    missing,
    describe(name, fn) {
      const reason = missing();
      if (reason) describe(name, { skip: reason }, () => {});
      else describe(name, fn);
    },
  };
}
