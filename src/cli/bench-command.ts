import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

/** The compiled benchmark runner, beside the compiled sources (dist/bench/main.js). */
const BENCH_ENTRY = fileURLToPath(new URL("../../bench/main.js", import.meta.url));

export const BENCH_HELP = `Usage: rapidai-jobs bench [benchmark flags...]

Runs the throughput benchmarks (dist/bench/main.js, built by \`npm run build\`)
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
  if (!existsSync(BENCH_ENTRY)) {
    throw new Error(
      `the benchmark runner is not built (${BENCH_ENTRY} is missing): run \`npm run build\``,
    );
  }
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
