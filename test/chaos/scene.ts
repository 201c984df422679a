/**
 * What every chaos test file sets up and tears down alike: its own
 * redis-server, the attempt log, and the worker processes it started, which
 * are thawed (in case a test froze one with SIGSTOP) and killed afterwards.
 */
import { after, before } from "node:test";
import { type RedisHandle, type StartRedisOptions, startRedis } from "../support/redis-server.js";
import type { WorkerProcess } from "../support/worker-process.js";
import { ChaosLog } from "./checker.js";

export interface ChaosScene {
  /** Set once the file's `before` hook ran. */
  readonly server: RedisHandle;
  readonly log: ChaosLog;
  /** Worker processes to end after the file; a test adds each one it starts. */
  readonly workers: Set<WorkerProcess>;
}

/**
 * Registers the file's `before` and `after` hooks. `cleanUp` runs after the
 * workers have exited and before the server stops (a proxy to close, say).
 */
export function chaosScene(
  options: StartRedisOptions = {},
  cleanUp?: () => Promise<void>,
): ChaosScene {
  let server: RedisHandle | undefined;
  const scene: ChaosScene = {
    get server() {
      if (server === undefined) throw new Error("the chaos scene's server has not started");
      return server;
    },
    log: new ChaosLog(),
    workers: new Set(),
  };
  before(async () => {
    server = await startRedis(options);
  });
  after(async () => {
    for (const w of scene.workers) {
      w.kill("SIGCONT");
      w.kill("SIGKILL");
    }
    await Promise.all([...scene.workers].map((w) => w.exited));
    await cleanUp?.();
    await server?.stop();
    scene.log.dispose();
  });
  return scene;
}
