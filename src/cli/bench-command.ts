import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

/** The compiled benchmark runner, beside the compiled sources (dist/bench/main.js). */
const BENCH_ENTRY = fileURLToPath(new URL("../../bench/main.js", import.meta.url));
/** The benchmarks' sources: only in a checkout of the repository, never in the npm package. */
const BENCH_SOURCES = fileURLToPath(new URL("../../../bench/main.ts", import.meta.url));
/** What the benchmarks measure and how to read them; shipped with the package. */
const BENCH_DOC = fileURLToPath(new URL("../../../docs/benchmarks.md", import.meta.url));

/**
 * Why there is no runner, and what to do. The npm package ships neither the
 * benchmarks nor the engines they compare against (BullMQ, Bee-Queue, …,
 * devDependencies), so an installed copy cannot build them.
 */
export function missingRunnerMessage(sourcesPresent = existsSync(BENCH_SOURCES)): string {
  if (sourcesPresent) {
    return `the benchmark runner is not built (${BENCH_ENTRY} is missing): run \`npm run build\``;
  }
  return (
    "the benchmarks come with the source repository, not with the npm package: " +
    "clone the repository, then run `npm install` and `npm run bench` there" +
    (existsSync(BENCH_DOC) ? ` (what they measure: ${BENCH_DOC})` : "")
  );
}

export const BENCH_HELP = `Usage: rapidai-jobs bench [benchmark flags...]

Runs the throughput benchmarks (dist/bench/main.js, built by \`npm run build\`
in a checkout of the source repository; the npm package does not ship them)
in a child process. Every flag after \`bench\` is passed to the benchmark
runner unchanged. Benchmarks load the CPU for a while: do not run them on a
busy machine. The runner's flags:

`;

/**
 * `rapidai-jobs bench`: runs the benchmark entry with the given flags and
 * resolves with its exit code (128 + the signal's number when a signal
 * ended it).
 */
export async function benchCommand(argv: string[]): Promise<number> {
  let args = argv[0] === "--" ? argv.slice(1) : argv;
  if (argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(BENCH_HELP);
    // The runner prints its own flags and exits without benchmarking.
    args = ["--help"];
  }
  if (!existsSync(BENCH_ENTRY)) throw new Error(missingRunnerMessage());
  const child = spawn(process.execPath, [BENCH_ENTRY, ...args], { stdio: "inherit" });
  // A signal sent to this process alone (not its group) still reaches the runner.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGTERM", forward);
  process.on("SIGINT", forward);
  return new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      process.off("SIGTERM", forward);
      process.off("SIGINT", forward);
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}
