/**
 * The benchmark harness itself works: a tiny `--smoke` run goes through
 * every scenario in child processes and writes a well-formed report. It
 * checks shapes, never speeds.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { redisBinary } from "../bench/redis.js";
import { type BenchReport, SCENARIO_IDS } from "../bench/types.js";

const mainJs = fileURLToPath(new URL("../bench/main.js", import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("benchmark smoke run", () => {
  const dir = mkdtempSync(join(tmpdir(), "rapidai-bench-smoke-"));
  const jsonPath = join(dir, "report.json");
  const summaryPath = join(dir, "SUMMARY.md");
  let outcome: { code: number | null; stdout: string; stderr: string };
  let report: BenchReport;

  before(async () => {
    if (redisBinary() === undefined) {
      if (process.env.CI) throw new Error("redis-server not found, and CI is set: failing");
      console.warn(
        "\n!!!!! redis-server not found: the smoke run's Redis cases are SKIPPED !!!!!\n",
      );
    }
    outcome = await run(["--smoke", "--json", jsonPath, "--summary", summaryPath]);
    report = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchReport;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exits with 0 and prints a table with the targets", async () => {
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /== No-op job throughput ==/);
    assert.match(outcome.stdout, /== Targets ==/);
  });

  it("reports progress on stderr, one line per scenario", async () => {
    for (const [i, id] of SCENARIO_IDS.entries()) {
      assert.ok(
        outcome.stderr.includes(`[${i + 1}/${SCENARIO_IDS.length} ${id}]`),
        `no progress line for ${id}`,
      );
    }
  });

  it("writes JSON with the machine facts", async () => {
    assert.equal(report.schema, 1);
    assert.equal(report.profile, "smoke");
    assert.equal(typeof report.machine.cpuModel, "string");
    assert.ok(report.machine.cores >= 1);
    assert.equal(report.machine.node, process.version);
    assert.ok(report.threads >= 1);
    assert.ok(report.durationMs > 0);
  });

  it("has results from every scenario, each measured or skipped for a stated reason", async () => {
    for (const id of SCENARIO_IDS) {
      assert.ok(
        report.results.some((r) => r.scenario === id),
        `no result for scenario ${id}`,
      );
    }
    for (const r of report.results) {
      assert.equal(r.error, undefined, `${r.scenario}/${r.id} failed: ${r.error}`);
      if (r.skipped !== undefined) {
        assert.ok(r.skipped.length > 0);
        continue;
      }
      const figures = Object.entries(r.figures);
      assert.ok(figures.length > 0, `${r.scenario}/${r.id} has no figures`);
      for (const [name, value] of figures) {
        assert.ok(Number.isFinite(value), `${r.scenario}/${r.id} figure ${name} is ${value}`);
      }
      const lingering = (r.notes ?? []).filter((n) => n.includes("did not exit"));
      assert.deepEqual(lingering, [], `${r.scenario}/${r.id} left something behind`);
    }
  });

  it("measures the peers in the same run when Redis is there", async (t) => {
    if (redisBinary() === undefined) return t.skip("redis-server not found");
    for (const engine of [
      "piscina",
      "tinypool",
      "bullmq",
      "bullmq-threads",
      "bee-queue",
      "rapidai-memory",
    ]) {
      const r = report.results.find((x) => x.scenario === "throughput" && x.engine === engine);
      assert.ok(
        r?.figures.jobsPerSec !== undefined && r.figures.jobsPerSec > 0,
        `no throughput for ${engine}`,
      );
    }
  });

  it("judges every target as met, not met, or not measured, with its figure", async () => {
    const ids = report.targets.map((t) => t.id);
    for (const id of [
      "memory-throughput-vs-piscina",
      "cpu-speedup",
      "event-loop-p99",
      "idle-enqueue-to-start-p99",
    ]) {
      assert.ok(ids.includes(id), `target ${id} missing`);
    }
    for (const t of report.targets) {
      if (t.figure === null) assert.equal(t.met, null, t.id);
      else assert.equal(typeof t.met, "boolean", t.id);
    }
    const cpu = report.targets.find((t) => t.id === "cpu-speedup");
    assert.equal(cpu?.met === null, false, "the CPU speedup was not measured");
  });

  it("writes a markdown summary with the targets and every scenario", async () => {
    const md = readFileSync(summaryPath, "utf8");
    assert.match(md, /^# Benchmark results/);
    assert.match(md, /## Targets/);
    assert.match(md, /## CPU-bound speedup/);
    assert.match(md, /\| target \| measured \| threshold \| result \|/);
  });
});
