/**
 * Each way Redis can refuse gets its own code and a message that says what
 * happened: unreachable, full, refused credentials, a key of the wrong type.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, it } from "node:test";
import { Redis } from "ioredis";
import { ErrorCode, JobError, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

const code = (e: unknown) => (e as { code?: string }).code;

async function until(what: string, ms: number, fn: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function nest(depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describeWithRedis("Redis errors, each with its own code", () => {
  const servers: RedisHandle[] = [];
  const queues: RedisQueue[] = [];
  const raws: Redis[] = [];
  after(async () => {
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 500 })));
    for (const r of raws) r.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  });
  const server = async (args: string[] = []) => {
    const s = await startRedis({ args });
    servers.push(s);
    return s;
  };
  const queue = (o: ConstructorParameters<typeof RedisQueue>[0]) => {
    const q = new RedisQueue({
      prefix: `codes:${randomUUID()}:`,
      threads: 1,
      logger: { warn() {} },
      ...o,
    });
    queues.push(q);
    return q;
  };

  it("stops a worker with a wrong password at start-up with ERR_BACKEND_AUTH, and does not retry for ever", async () => {
    const s = await server();
    const raw = new Redis(s.url);
    raws.push(raw);
    // Set after start: the start-up check pings without a password.
    await raw.config("SET", "requirepass", "right");
    await raw.auth("right");
    const url = `redis://:wrong@127.0.0.1:${s.port}`;
    const warnings: string[] = [];
    const errors: unknown[] = [];
    const worker = queue({ url, pollIntervalMs: 50, logger: { warn: (m) => warnings.push(m) } });
    worker.on("error", (e) => errors.push(e.error));
    await worker.start();
    await until("the error event", 5_000, () => errors.length > 0);
    const fatal = errors[0] as JobError;
    assert.equal(fatal.code, ErrorCode.BACKEND_AUTH);
    assert.doesNotMatch(fatal.message, /wrong/, "the password is not repeated");
    assert.ok(
      warnings.some((w) => /refused the credentials/.test(w) && /stops/.test(w)),
      warnings.join("\n"),
    );
    // Every later call fails at once with the same code, without trying again.
    const t0 = Date.now();
    await assert.rejects(
      () => worker.enqueue(randomUUID(), "rq.pid", []),
      (e) => code(e) === ErrorCode.BACKEND_AUTH,
    );
    assert.ok(Date.now() - t0 < 100, "no new connection attempt");
    const denied = async () =>
      Number(/acl_access_denied_auth:(\d+)/.exec(await raw.info("stats"))?.[1] ?? -1);
    const seen = await denied();
    // Absence of retries needs a window: 2.5 s covers several attempts of
    // the reconnect backoff (100 ms, 200 ms, … up to 2 s), which used to
    // go on for ever.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(await denied(), seen, "no more login attempts");
    assert.equal(errors.length, 1, "reported once");
  });

  it("reports a key of the wrong type as ERR_BACKEND_CORRUPT, not unavailable", async () => {
    const s = await server();
    const q = queue({ url: s.url, process: false });
    const raw = new Redis(s.url);
    raws.push(raw);
    await raw.set(`${q.prefix}job:odd`, "a string, not a hash");
    await assert.rejects(
      () => q.getResult("odd"),
      (e) => code(e) === ErrorCode.BACKEND_CORRUPT && /WRONGTYPE/.test((e as Error).message),
    );
  });

  it("says in the unavailable error of an enqueue that retrying with the same jobId is safe", async () => {
    const s = await server();
    const q = queue({ url: s.url, process: false });
    await s.kill("SIGKILL");
    await assert.rejects(
      () => q.enqueue("retry-me", "rq.pid", []),
      (e) =>
        code(e) === ErrorCode.BACKEND_UNAVAILABLE &&
        /same jobId/.test((e as Error).message) &&
        /retry-me/.test((e as Error).message),
    );
  });

  it("refuses an argument nested too deeply with ERR_ARGUMENT_NOT_CLONEABLE, storing nothing", async () => {
    const s = await server();
    const q = queue({ url: s.url, process: false });
    for (const depth of [3_000, 10_000]) {
      await assert.rejects(
        () => q.enqueue(`deep-${depth}`, "rq.pid", [nest(depth)]),
        (e) =>
          e instanceof JobError &&
          e.code === ErrorCode.ARGUMENT_NOT_CLONEABLE &&
          /nested/.test(e.message),
        String(depth),
      );
    }
    const counts = await q.countJobs();
    assert.equal(counts.pending, 0);
  });

  it("stores a thrown plain object as JSON and a thrown undefined as a clear sentence", async () => {
    const s = await server();
    const q = queue({ url: s.url });
    const [plain, none] = await Promise.all([
      q.waitFor(await q.enqueue("plain", "rq.throwValue", ["object"]), { timeoutMs: 10_000 }),
      q.waitFor(await q.enqueue("none", "rq.throwValue", ["undefined"]), { timeoutMs: 10_000 }),
    ]);
    assert.equal(plain.error, '{"reason":"quota","retryInS":5}');
    assert.equal(none.error, "the job threw undefined, not an Error");
  });

  it("says a running job's record was deleted, not taken over, when it vanishes", async () => {
    const s = await server();
    const warnings: string[] = [];
    const q = queue({
      url: s.url,
      leaseMs: 1000,
      logger: { warn: (m) => warnings.push(m) },
    });
    const raw = new Redis(s.url);
    raws.push(raw);
    const id = await q.enqueue("vanish", "rq.sleep", [600]);
    await q.start();
    await until("the job to run", 5_000, async () => (await q.getResult(id))?.status === "running");
    await raw.del(`${q.prefix}job:${id}`);
    await until("a warning about it", 5_000, () => warnings.some((w) => w.includes(id)));
    const said = warnings.filter((w) => w.includes(id)).join("\n");
    assert.match(said, /deleted/);
    assert.doesNotMatch(said, /taken over|took it over/);
  });
});
