/**
 * Child-process entry: runs exactly one case, so no case inherits another's
 * heap, threads or connections. argv: <case spec JSON> <context JSON>.
 * Reports progress and the result to the parent over IPC, then lets the
 * process end by itself: a case that leaves handles open is noticed.
 */
import { PROFILES } from "./profile.js";
import { SCENARIOS } from "./scenarios/index.js";
import { CaseSkipped } from "./skip.js";
import type { CaseSpec, ChildMessage, ProfileName } from "./types.js";

export interface ChildContext {
  profile: ProfileName;
  threads: number;
  redisUrl?: string;
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      console.log(JSON.stringify(message));
      resolve();
    } else process.send(message, () => resolve());
  });
}

const spec = JSON.parse(process.argv[2] ?? "{}") as CaseSpec;
const ctx = JSON.parse(process.argv[3] ?? "{}") as ChildContext;
const scenario = SCENARIOS[spec.scenario];
let lastProgress = 0;

try {
  if (scenario === undefined) throw new Error(`unknown scenario ${spec.scenario}`);
  const out = await scenario.run(spec, {
    profile: PROFILES[ctx.profile],
    threads: ctx.threads,
    ...(ctx.redisUrl === undefined ? {} : { redisUrl: ctx.redisUrl }),
    progress(done, total, what) {
      // The display needs a few updates a second, not one per job.
      const now = performance.now();
      if (done < total && now - lastProgress < 100) return;
      lastProgress = now;
      process.send?.({ type: "progress", done, total, what } satisfies ChildMessage);
    },
  });
  await send({ type: "result", ...out });
} catch (error) {
  if (error instanceof CaseSkipped) await send({ type: "skipped", reason: error.message });
  else
    await send({
      type: "error",
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
}
process.disconnect?.();
