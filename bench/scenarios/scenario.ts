/** What a scenario module provides: its cases (planned in the parent) and how to run one (in a child). */
import type { Profile } from "../profile.js";
import type { CaseResult, CaseSpec, SampleStats, ScenarioId } from "../types.js";

export interface PlanContext {
  profile: Profile;
  /** Worker threads per pool. */
  threads: number;
  cores: number;
  /** redis-server can be started here. */
  redis: boolean;
  /** Results of the scenarios already run in this run (latency reads measured throughput). */
  previous: readonly CaseResult[];
}

export interface RunContext {
  profile: Profile;
  threads: number;
  /** The case's private Redis, when its spec asked for one. */
  redisUrl?: string;
  /** Reports how far the case is, for the live display. */
  progress(done: number, total: number, what: string): void;
}

export interface CaseOutput {
  figures: Record<string, number>;
  stats?: Record<string, SampleStats>;
  notes?: string[];
}

/** A table for the terminal and the markdown summary. */
export interface Table {
  headers: string[];
  rows: string[][];
  /** Lines printed under the table. */
  footnotes?: string[];
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  /** One paragraph: what is measured and how. */
  method: string;
  plan(ctx: PlanContext): CaseSpec[];
  run(spec: CaseSpec, ctx: RunContext): Promise<CaseOutput>;
  /** Adds figures that compare cases of this scenario (ratios, speedups); runs in the parent. */
  derive?(results: CaseResult[], ctx: PlanContext): void;
  table(results: CaseResult[], ctx: PlanContext): Table;
}
