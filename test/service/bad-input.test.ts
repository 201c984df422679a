import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getQueue, InMemoryQueue, type JobResult } from "rapidai/background";
import "../../src/demo/tasks.js";
import { enqueue, pollJob, request, serviceForFile, startService } from "./harness.js";

// A small payload limit, so an argument too large to store fits in a body.
const queue = getQueue("memory", { threads: 1, maxPayloadBytes: 2000 });
const svc = serviceForFile(queue, { bodyLimit: 64 * 1024 });

const post = (
  task: string,
  init: { body?: unknown; raw?: string; headers?: Record<string, string> },
) => request(`${svc.base}/jobs/${task}`, { method: "POST", ...init });

/** Nothing was stored: the job count did not move. */
async function total(): Promise<number> {
  return (await request(`${svc.base}/jobs?limit=0`)).body.total;
}

describe("bad requests to POST /jobs/:task", () => {
  test("an unknown task is a 404 naming it, and nothing is stored", async () => {
    const before = await total();
    const a = await post("no_such_task", { body: { args: [] } });
    assert.equal(a.status, 404);
    assert.equal(a.body.code, "ERR_UNKNOWN_TASK");
    assert.match(a.body.error, /no_such_task/);
    assert.equal(await total(), before);
  });

  test("malformed JSON is a 400", async () => {
    for (const raw of ['{"args": [1', "{args: []}", '{"__proto__": {"x": 1}, "args": []}']) {
      const a = await post("fib", { raw, headers: { "content-type": "application/json" } });
      assert.equal(a.status, 400, raw);
      assert.deepEqual(a.body, { error: "Malformed JSON body" });
    }
  });

  test("args that are not an array are a 400 with a JobError code", async () => {
    for (const body of [{ args: 5 }, { args: { n: 5 } }, { args: "5" }, { args: null }]) {
      const a = await post("fib", { body });
      assert.equal(a.status, 400, JSON.stringify(body));
      assert.equal(a.body.code, "ERR_INVALID_OPTION");
      assert.match(a.body.error, /`args` must be an array/);
    }
  });

  test("a body that is not an object, or has an unknown field, is a 400", async () => {
    const cases: [unknown, RegExp][] = [
      [[1, 2], /must be a JSON object/],
      ["text", /must be a JSON object/],
      [{ arg: [1] }, /unknown body field `arg`/],
    ];
    for (const [body, message] of cases) {
      const a = await post("fib", { body });
      assert.equal(a.status, 400, JSON.stringify(body));
      assert.match(a.body.error, message);
    }
  });

  test("a JSON null body is a 400, and nothing is stored", async () => {
    const before = await total();
    const a = await post("fib", { raw: "null", headers: { "content-type": "application/json" } });
    assert.equal(a.status, 400);
    assert.equal(a.body.code, "ERR_INVALID_OPTION");
    assert.match(a.body.error, /must be a JSON object/);
    assert.equal(await total(), before);
  });

  test("a text/plain body is a 415, as documented, and nothing is stored", async () => {
    const before = await total();
    for (const raw of ['{"args": [1]}', "args", ""]) {
      const a = await post("fib", { raw, headers: { "content-type": "text/plain" } });
      assert.equal(a.status, 415, JSON.stringify(raw));
      assert.deepEqual(a.body, { error: "Unsupported Content-Type: send application/json" });
    }
    assert.equal(await total(), before);
  });

  test("a bad job option is a 400 naming it", async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ args: [], delay_ms: -1 }, "ERR_INVALID_OPTION", /`delay_ms`/],
      [{ args: [], max_retries: 1.5 }, "ERR_INVALID_OPTION", /`max_retries`/],
      [{ args: [], priority: "high" }, "ERR_INVALID_OPTION", /`priority`/],
      [{ args: [], job_id: "has space" }, "ERR_INVALID_JOB_ID", /invalid job id/],
    ];
    for (const [body, code, message] of cases) {
      const a = await post("fib", { body });
      assert.equal(a.status, 400, JSON.stringify(body));
      assert.equal(a.body.code, code);
      assert.match(a.body.error, message);
    }
  });

  test("an argument that cannot be stored is a 400 with its JobError code, and nothing is stored", async () => {
    const before = await total();
    const big = await post("fib", { body: { args: ["x".repeat(5000)] } });
    assert.equal(big.status, 400);
    assert.equal(big.body.code, "ERR_PAYLOAD_TOO_LARGE");
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const nested = await post("fib", {
      raw: `{"args": [${deep}]}`,
      headers: { "content-type": "application/json" },
    });
    assert.equal(nested.status, 400);
    assert.equal(nested.body.code, "ERR_ARGUMENT_NOT_CLONEABLE");
    assert.equal(await total(), before);
  });

  test("a body over the limit is a 413", async () => {
    const a = await post("fib", { body: { args: ["x".repeat(70 * 1024)] } });
    assert.equal(a.status, 413);
    assert.match(a.body.error, /larger than 65536 bytes/);
  });

  test("an unsupported content type is a 415", async () => {
    const a = await post("fib", { raw: "<args/>", headers: { "content-type": "application/xml" } });
    assert.equal(a.status, 415);
    assert.match(a.body.error, /application\/json/);
  });
});

describe("no stack trace of the service in any answer", () => {
  test("a failed job's answer carries no stack; its own stack only when asked, as error_stack", async () => {
    const id = await enqueue(svc.base, "fail", ["secret stack test"]);
    const job = await pollJob(svc.base, id, (j) => j.status === "failed");
    assert.equal(job.error, "secret stack test");
    assert.equal("error_stack" in job, false);
    const plain = await fetch(`${svc.base}/jobs/${id}`);
    assert.doesNotMatch(await plain.text(), /\bat .*\(|\.js:\d+|node:internal|\n\s+at /);
    const asked = await request(`${svc.base}/jobs/${id}?include=stack`);
    assert.equal(asked.status, 200);
    assert.match(asked.body.error_stack, /^Error: secret stack test\n\s+at .*\bfail\b/);
    const { error_stack: _, ...rest } = asked.body;
    assert.doesNotMatch(JSON.stringify(rest), /\bat .*\(|\.js:\d+|node:internal/);
    const bad = await request(`${svc.base}/jobs/${id}?include=everything`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /`include` must be `stack`/);
  });

  test("an internal error is a bare 500, logged on the server only", async () => {
    class BrokenQueue extends InMemoryQueue {
      override async getResult<T>(): Promise<JobResult<T> | undefined> {
        throw new Error("database password is hunter2 at /srv/app/secret.js:12");
      }
    }
    const broken = new BrokenQueue({ threads: 1 });
    const logged: unknown[] = [];
    const other = await startService({
      queue: broken,
      tasks: ["fib"],
      logError: (_message, error) => logged.push(error),
    });
    try {
      const a = await request(`${other.base}/jobs/any-id`);
      assert.equal(a.status, 500);
      assert.deepEqual(a.body, { error: "Internal server error" });
      assert.doesNotMatch(a.text, /hunter2|secret\.js|\bat /);
      assert.equal(logged.length, 1);
      assert.match(String((logged[0] as Error).message), /hunter2/);
    } finally {
      await other.close();
      await broken.close();
    }
  });

  test("a URL that cannot be decoded, or a path too long, is answered without echoing it", async () => {
    const bad = await request(`${svc.base}/jobs/%ff?secret=1`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { error: "Malformed URL: bad percent-encoding" });
    const long = await request(`${svc.base}/jobs/${"c".repeat(300)}?secret=1`);
    assert.equal(long.status, 414);
    assert.deepEqual(long.body, { error: "Path too long" });
  });

  test("an unknown route is a JSON 404", async () => {
    const a = await request(`${svc.base}/nope`);
    assert.equal(a.status, 404);
    assert.deepEqual(a.body, { error: "Not found" });
  });
});
