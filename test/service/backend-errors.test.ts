/**
 * The HTTP status of each backend error: 503 with Retry-After for what heals
 * by itself (Redis down, a failover's READONLY, no replica acknowledgement,
 * out of memory), 502 without it for a deployment the service is
 * misconfigured for (MOVED, CROSSSLOT, NOPERM). Never the backend's address.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ErrorCode,
  type ErrorCodeValue,
  InMemoryQueue,
  type JobCounts,
  JobError,
} from "rapidai/background";
import "../../src/demo/tasks.js";
import { type RunningService, request, startService } from "./harness.js";

const CASES: [ErrorCodeValue, number, string | null][] = [
  [ErrorCode.BACKEND_UNAVAILABLE, 503, "2"],
  [ErrorCode.REDIS_READONLY, 503, "2"],
  [ErrorCode.REPLICATION_TIMEOUT, 503, "2"],
  [ErrorCode.BACKEND_FULL, 503, "5"],
  [ErrorCode.BACKEND_AUTH, 503, null],
  [ErrorCode.REDIS_MOVED, 502, null],
  [ErrorCode.REDIS_CROSSSLOT, 502, null],
  [ErrorCode.REDIS_NOPERM, 502, null],
];

describe("backend errors over HTTP", () => {
  let failWith: ErrorCodeValue = ErrorCode.BACKEND_UNAVAILABLE;
  class FailingQueue extends InMemoryQueue {
    override async countJobs(): Promise<JobCounts> {
      throw new JobError(failWith, "Redis at redis://10.1.2.3:6380 said no");
    }
  }
  const queue = new FailingQueue({ threads: 1 });
  let svc: RunningService;
  const logged: unknown[] = [];
  before(async () => {
    svc = await startService({ queue, tasks: ["fib"], logError: (_m, e) => logged.push(e) });
  });
  after(async () => {
    await svc.close();
    await queue.close();
  });

  for (const [code, status, retryAfter] of CASES) {
    test(`${code} answers ${status}${retryAfter ? ` with Retry-After: ${retryAfter}` : ""}`, async () => {
      failWith = code;
      const before = logged.length;
      const a = await request(`${svc.base}/api/stats`);
      assert.equal(a.status, status);
      assert.equal(a.headers.get("retry-after"), retryAfter);
      assert.equal(a.body.code, code);
      assert.equal(typeof a.body.error, "string");
      assert.doesNotMatch(a.text, /10\.1\.2\.3|6380/, "the backend's address stays in the log");
      assert.equal(logged.length, before + 1, "the detail is logged on the server");
    });
  }
});
