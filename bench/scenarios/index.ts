/** Every scenario, in the order a run performs them. */
import type { ScenarioId } from "../types.js";
import { cpuSpeedup } from "./cpu-speedup.js";
import { eventLoop } from "./event-loop.js";
import { latency } from "./latency.js";
import { memory } from "./memory.js";
import { payload } from "./payload.js";
import { scaling } from "./scaling.js";
import type { Scenario } from "./scenario.js";
import { throughput } from "./throughput.js";

export const SCENARIOS: Record<ScenarioId, Scenario> = {
  throughput,
  "cpu-speedup": cpuSpeedup,
  "event-loop": eventLoop,
  latency,
  memory,
  scaling,
  payload,
};
