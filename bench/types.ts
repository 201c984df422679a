/**
 * The shapes the benchmark passes between its parent process, the child
 * process that runs each case, and the report.
 */

/** The scenarios, in the order a run performs them. */
export const SCENARIO_IDS = [
  "throughput",
  "cpu-speedup",
  "event-loop",
  "latency",
  "memory",
  "scaling",
  "payload",
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export type ProfileName = "smoke" | "quick" | "full";

/** Plain values only: a spec crosses a process boundary as JSON. */
export type Params = Record<string, string | number | boolean>;

/** One measurement to make, in its own child process. */
export interface CaseSpec {
  scenario: ScenarioId;
  /** Unique within the scenario, e.g. `bullmq-threads`. */
  id: string;
  /** What the table shows. */
  label: string;
  /** `rapidai-memory`, `rapidai-redis`, `piscina`, `tinypool`, `bullmq`, `bee-queue`, `main-thread`. */
  engine: string;
  /** The child needs a private redis-server (the parent starts it and passes the URL). */
  redis: boolean;
  /** Extra node flags for the child, e.g. `--expose-gc`. */
  execArgv?: string[];
  params: Params;
}

/** Summary of repeated samples of one figure. */
export interface SampleStats {
  samples: number;
  mean: number;
  min: number;
  max: number;
  /** Relative margin of error of the mean at 95 %, in percent (tinybench's `rme`). */
  rme: number;
}

/** What a case measured. `figures` holds flat numbers the report and the targets read by name. */
export interface CaseResult {
  scenario: ScenarioId;
  id: string;
  label: string;
  engine: string;
  params: Params;
  figures: Record<string, number>;
  /** Spread of the main figure over repeated iterations, where there were some. */
  stats?: Record<string, SampleStats>;
  notes?: string[];
  /** Set when the case could not run or failed; then `figures` is empty. */
  error?: string;
  skipped?: string;
  /** Wall time of the whole child process, ms. */
  wallMs: number;
}

/** Child → parent messages. */
export type ChildMessage =
  | { type: "progress"; done: number; total: number; what: string }
  | {
      type: "result";
      figures: Record<string, number>;
      stats?: Record<string, SampleStats>;
      notes?: string[];
    }
  | { type: "skipped"; reason: string }
  | { type: "error"; message: string };

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  totalMemoryBytes: number;
  node: string;
  v8: string;
  platform: string;
  osRelease: string;
  arch: string;
  redisServer: string | null;
  /** 1, 5 and 15 minute load averages when the run started and ended: other load skews figures. */
  loadAvgStart: number[];
  loadAvgEnd?: number[];
  /**
   * Share of the machine's CPU capacity (0..1) used during the run by
   * processes other than the benchmark and its children. Linux only.
   */
  otherCpuShare?: number;
}

export interface TargetResult {
  id: string;
  description: string;
  /** The measured figure the target is judged on, or null when it was not measured in this run. */
  figure: number | null;
  unit: string;
  threshold: number;
  comparator: ">=" | "<=" | "<";
  /** null: not measured in this run. */
  met: boolean | null;
  /** How the figure was obtained (which cases, which ratio). */
  basis: string;
}

export interface BenchReport {
  schema: 1;
  profile: ProfileName;
  command: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Worker threads given to every pool, unless a case says otherwise. */
  threads: number;
  machine: MachineFacts;
  results: CaseResult[];
  targets: TargetResult[];
}
