import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RedisQueue } from "rapidai/background";
import "../../src/demo/tasks.js";
import { freePort } from "../support/redis-server.js";
import { type RunningService, request, startService } from "./harness.js";

describe("a backend that cannot be reached", () => {
  let queue: RedisQueue;
  let svc: RunningService;
  let port: number;
  const logged: unknown[] = [];

  before(async () => {
    // Nothing listens there: every call fails as it would with Redis down.
    port = await freePort();
    queue = new RedisQueue({ url: `redis://user:pw@127.0.0.1:${port}`, process: false });
    svc = await startService({
      queue,
      tasks: ["fib"],
      logError: (_m, e) => logged.push(e),
      processMetrics: true,
    });
  });
  after(async () => {
    await svc.close();
    await queue.close();
  });

  test("requests answer 503 with the code, without the backend's address", async () => {
    const paths = [
      ["/api/stats", undefined],
      ["/jobs/fib", { args: [1] }],
      ["/jobs/some-id", undefined],
    ] as const;
    const answers = await Promise.all(
      paths.map(([path, body]) => request(`${svc.base}${path}`, { body })),
    );
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 503, paths[i]![0]);
      assert.deepEqual(a.body, {
        error: "Queue backend unavailable",
        code: "ERR_BACKEND_UNAVAILABLE",
      });
      assert.doesNotMatch(a.text, new RegExp(String(port)));
    }
    assert.ok(logged.length >= 3, "the detail is logged on the server");
  });

  test("/metrics still answers, with rapidai_backend_up 0 and no job counts", async () => {
    const a = await request(`${svc.base}/metrics`);
    assert.equal(a.status, 200);
    assert.match(a.text, /^rapidai_backend_up 0$/m);
    assert.doesNotMatch(a.text, /^rapidai_jobs\{/m);
    assert.match(a.text, /^process_cpu_user_seconds_total /m);
  });
});
