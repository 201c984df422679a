/**
 * An outside program some tests need (redis-server, Chromium). Without it
 * those tests skip with one loud line per process, unless env CI is set,
 * where they fail: CI installs what the tests need (see .ci/run).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import {
  after,
  afterEach,
  before,
  beforeEach,
  describe,
  type TestContext,
  type TestOptions,
  test,
} from "node:test";

/**
 * The node:test functions a suite body registers with. A suite made by
 * {@link Requirement.suite} gets them as its argument, so that without the
 * binary each of its tests can be registered as skipped by its own name.
 */
export interface SuiteApi {
  test(name: string, fn: (t: TestContext) => void | Promise<void>): void;
  test(name: string, options: TestOptions, fn: (t: TestContext) => void | Promise<void>): void;
  describe(name: string, fn: () => void): void;
  before(fn: () => unknown): void;
  after(fn: () => unknown): void;
  beforeEach(fn: () => unknown): void;
  afterEach(fn: () => unknown): void;
}

export interface Requirement {
  /** Path of the binary, or undefined when it is missing. */
  binary(): string | undefined;
  /** Undefined when present; else the skip reason (or it throws under CI). */
  missing(): string | undefined;
  /**
   * `describe` that skips the whole suite (or fails under CI) when the
   * binary is missing. Its body registers with node:test directly, so the
   * skip cannot name each test: it is reported as one skipped test named
   * after the suite, so `# skipped` never reads 0 for tests that did not run.
   * Prefer {@link Requirement.suite}.
   */
  describe(name: string, fn: () => void): void;
  /**
   * `describe` whose body registers through the {@link SuiteApi} it is
   * given: without the binary every test shows as skipped by its own name
   * (hooks do not run), and the runner counts each one.
   */
  suite(name: string, fn: (api: SuiteApi) => void): void;
}

const REAL_API: SuiteApi = {
  test: test as SuiteApi["test"],
  describe: (name, fn) => describe(name, fn),
  before: (fn) => before(fn),
  after: (fn) => after(fn),
  beforeEach: (fn) => beforeEach(fn),
  afterEach: (fn) => afterEach(fn),
};

/** The API of a suite that cannot run: tests register as skipped, hooks are dropped. */
function skippingApi(reason: string): SuiteApi {
  const api: SuiteApi = {
    test: (name: string) => {
      test(name, { skip: reason }, () => {});
    },
    describe: (name, fn) => describe(name, () => fn()),
    before: () => {},
    after: () => {},
    beforeEach: () => {},
    afterEach: () => {},
  };
  return api;
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
      if (reason) describe(name, () => test(`${name} (whole suite)`, { skip: reason }, () => {}));
      else describe(name, fn);
    },
    suite(name, fn) {
      const reason = missing();
      describe(name, () => fn(reason ? skippingApi(reason) : REAL_API));
    },
  };
}
