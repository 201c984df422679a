/**
 * The benchmark's entry: `npm run bench` / `rapidai-jobs bench`.
 *
 *   node dist/bench/main.js [--full | --smoke] [--only <scenario,...>] [--case <text>]
 *                           [--threads <n>] [--json <path>] [--summary <path>] [--cpu-prof <dir>]
 *
 * Every case runs in its own child process, one after another, with its own
 * redis-server when it needs one, so no case disturbs the next. Results go to
 * stdout as a table, to JSON (machine facts included) and to a markdown summary.
 */
import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ChildContext } from "./case-runner.js";
import { redisQueueAvailable } from "./engines/rapidai-redis.js";
import { latencySvg } from "./latency-chart.js";
import { cpuMark, finishMachineFacts, machineFacts } from "./machine.js";
import { PROFILES, type Profile } from "./profile.js";
import { Progress } from "./progress.js";
import { type BenchRedis, redisBinary, startRedis } from "./redis.js";
import { formatMarkdown, formatText, writeFile } from "./report.js";
import { SCENARIOS } from "./scenarios/index.js";
import type { PlanContext } from "./scenarios/scenario.js";
import { evaluateTargets } from "./targets.js";
import {
  type BenchReport,
  type CaseResult,
  type CaseSpec,
  type ChildMessage,
  type ProfileName,
  SCENARIO_IDS,
  type ScenarioId,
} from "./types.js";

const USAGE = `usage: node dist/bench/main.js [options]
  --full              larger batches, more iterations, 1,000,000 pending jobs (takes much longer)
  --smoke             tiny sizes: checks the harness works; its figures mean nothing
  --only <ids>        comma-separated scenarios: ${SCENARIO_IDS.join(", ")}
  --case <text>       only cases whose id contains <text>
  --threads <n>       worker threads per pool (default: available parallelism)
  --json <path>       write the JSON report here (default: bench/results/<timestamp>.json and latest.json)
  --summary <path>    write the markdown summary here (default: bench/results/SUMMARY.md, unless --json is given)
  --cpu-prof <dir>    run each case under \`node --cpu-prof\`, profiles into <dir>
                      (read them with: node dist/bench/profile-top.js <dir>/*.cpuprofile)
  -h, --help          this text`;

const root = new URL("../../", import.meta.url);
const resultsDir = fileURLToPath(new URL("bench/results/", root));
const caseRunner = new URL("./case-runner.js", import.meta.url);

/** Longest a single case may take before it is stopped and reported as failed. */
const CASE_TIMEOUT_MS: Record<ProfileName, number> = {
  smoke: 60_000,
  quick: 240_000,
  full: 1_800_000,
};
/** How long a case may take to exit after it sent its result. */
const EXIT_GRACE_MS = 10_000;

function parse() {
  const { values } = parseArgs({
    options: {
      full: { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      only: { type: "string" },
      case: { type: "string" },
      threads: { type: "string" },
      json: { type: "string" },
      summary: { type: "string" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.full && values.smoke) throw new Error("--full and --smoke exclude each other");
  const profile: ProfileName = values.full ? "full" : values.smoke ? "smoke" : "quick";
  const only = (values.only ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of only) {
    if (!SCENARIO_IDS.includes(id as ScenarioId)) {
      throw new Error(`--only: unknown scenario "${id}" (known: ${SCENARIO_IDS.join(", ")})`);
    }
  }
  const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error("--threads must be an integer >= 1");
  return {
    profile,
    scenarios: only.length > 0 ? SCENARIO_IDS.filter((id) => only.includes(id)) : [...SCENARIO_IDS],
    caseFilter: values.case,
    threads,
    json: values.json,
    summary: values.summary,
    cpuProf: values["cpu-prof"],
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

interface RunOptions {
  profile: Profile;
  threads: number;
  progress: Progress;
  /** Directory for `--cpu-prof` profiles of the case processes. */
  cpuProf: string | undefined;
}

async function runCase(spec: CaseSpec, o: RunOptions): Promise<CaseResult> {
  const { profile, threads, progress } = o;
  const base = {
    scenario: spec.scenario,
    id: spec.id,
    label: spec.label,
    engine: spec.engine,
    params: spec.params,
    figures: {},
  };
  const startedAt = performance.now();
  if (spec.engine === "rapidai-redis" && !redisQueueAvailable()) {
    return {
      ...base,
      skipped: "RedisQueue is not exported by rapidai/background in this build",
      wallMs: 0,
    };
  }
  if (spec.redis && redisBinary() === undefined) {
    return { ...base, skipped: "redis-server not found", wallMs: 0 };
  }
  let redis: BenchRedis | undefined;
  let child: ChildProcess | undefined;
  try {
    if (spec.redis) redis = await startRedis();
    const ctx: ChildContext = {
      profile: profile.name,
      threads,
      ...(redis ? { redisUrl: redis.url } : {}),
    };
    const c = fork(caseRunner, [JSON.stringify(spec), JSON.stringify(ctx)], {
      execArgv: [
        ...(spec.execArgv ?? []),
        ...(o.cpuProf === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`]),
      ],
      // The child's stdout joins our stderr: stdout carries only the results table.
      stdio: ["ignore", 2, 2, "ipc"],
    });
    child = c;
    const outcome = await new Promise<ChildMessage>((resolve) => {
      const timer = setTimeout(() => {
        c.kill("SIGKILL");
        resolve({
          type: "error",
          message: `timed out after ${CASE_TIMEOUT_MS[profile.name] / 1000} s`,
        });
      }, CASE_TIMEOUT_MS[profile.name]);
      c.on("message", (m: ChildMessage) => {
        if (m.type === "progress") progress.caseProgress(m.done, m.total, m.what);
        else {
          clearTimeout(timer);
          resolve(m);
        }
      });
      c.once("exit", (code, signal) => {
        clearTimeout(timer);
        resolve({
          type: "error",
          message: `the case process exited (${signal ?? code}) without a result`,
        });
      });
    });
    const notes: string[] = [];
    if (outcome.type === "result" && outcome.notes) notes.push(...outcome.notes);
    // A case must leave nothing running: one that does not exit is reported, then stopped.
    const grace = setTimeout(() => {
      notes.push(
        `did not exit within ${EXIT_GRACE_MS / 1000} s of its result (handles left open); killed`,
      );
      c.kill("SIGKILL");
    }, EXIT_GRACE_MS);
    await exited(c);
    clearTimeout(grace);
    const wallMs = performance.now() - startedAt;
    const extra = notes.length > 0 ? { notes } : {};
    switch (outcome.type) {
      case "result":
        return {
          ...base,
          figures: outcome.figures,
          ...(outcome.stats ? { stats: outcome.stats } : {}),
          ...extra,
          wallMs,
        };
      case "skipped":
        return { ...base, skipped: outcome.reason, ...extra, wallMs };
      default:
        return {
          ...base,
          error: outcome.type === "error" ? outcome.message : "no result",
          ...extra,
          wallMs,
        };
    }
  } catch (error) {
    child?.kill("SIGKILL");
    return { ...base, error: (error as Error).message, wallMs: performance.now() - startedAt };
  } finally {
    await redis?.stop();
  }
}

async function main(): Promise<void> {
  const args = parse();
  const profile = PROFILES[args.profile];
  const started = new Date();
  const t0 = performance.now();
  const facts = machineFacts();
  const cpuAtStart = cpuMark();
  const progress = new Progress();
  const results: CaseResult[] = [];
  let index = 0;
  for (const id of args.scenarios) {
    const scenario = SCENARIOS[id];
    progress.scenario(++index, args.scenarios.length, id, scenario.title);
    const ctx: PlanContext = {
      profile,
      threads: args.threads,
      cores: facts.availableParallelism,
      redis: redisBinary() !== undefined,
      previous: results,
    };
    const specs = scenario
      .plan(ctx)
      .filter((s) => args.caseFilter === undefined || s.id.includes(args.caseFilter));
    const mine: CaseResult[] = [];
    for (const [i, spec] of specs.entries()) {
      progress.caseStarted(i + 1, specs.length, spec.label);
      const result = await runCase(spec, {
        profile,
        threads: args.threads,
        progress,
        cpuProf: args.cpuProf,
      });
      progress.caseFinished(result);
      mine.push(result);
    }
    scenario.derive?.(mine, ctx);
    results.push(...mine);
  }
  progress.done();

  const report: BenchReport = {
    schema: 1,
    profile: args.profile,
    command: ["node dist/bench/main.js", ...process.argv.slice(2)].join(" "),
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: performance.now() - t0,
    threads: args.threads,
    machine: finishMachineFacts(facts, cpuAtStart),
    results,
    targets: evaluateTargets(results, facts.availableParallelism),
  };
  process.stdout.write(formatText(report));
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const written: string[] = [];
  if (args.json !== undefined) {
    writeFile(args.json, json);
    written.push(args.json);
  } else if (args.profile !== "smoke") {
    const stamp = report.startedAt.replace(/[:.]/g, "-");
    for (const name of [`${stamp}.json`, "latest.json"]) {
      writeFile(`${resultsDir}${name}`, json);
      written.push(`${resultsDir}${name}`);
    }
  }
  const summary =
    args.summary ??
    (args.json === undefined && args.profile !== "smoke" ? `${resultsDir}SUMMARY.md` : undefined);
  if (summary !== undefined) {
    writeFile(summary, formatMarkdown(report));
    written.push(summary);
    // The summary links the chart by this name, beside it.
    const chart = latencySvg(results, `Job latency under load, ${report.startedAt.slice(0, 10)}`);
    if (chart !== undefined) {
      const path = join(dirname(summary), "latency.svg");
      writeFile(path, chart);
      written.push(path);
    }
  }
  if (written.length > 0) process.stderr.write(`wrote ${written.join(", ")}\n`);
  // Failed cases are in the report; the exit code tells scripts something went wrong.
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
