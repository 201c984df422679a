/**
 * `rapidai-jobs jobs …` and `rapidai-jobs queue …` as a user runs them: a
 * child process against a real redis-server started here, and against a
 * real service started here.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { getQueue, type JobQueue, RedisQueue } from "rapidai/background";
import { type RedisHandle, startRedis, suiteWithRedis } from "../support/redis-server.js";
import type { SuiteApi } from "../support/requirement.js";
import "../service/fixtures/ops-tasks.js";
import { type RunningService, runCli, startService } from "../service/harness.js";

/** The variables the commands read, cleared so the caller's shell cannot leak in. */
const CLEAN_ENV = { RAPIDAI_REDIS_URL: "", RAPIDAI_URL: "", RAPIDAI_TOKEN: "", RAPIDAI_PREFIX: "" };
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { ...CLEAN_ENV, ...env });

/** Runs a command that must succeed with `--json` and returns its answer. */
async function json(args: string[], env: Record<string, string> = {}): Promise<any> {
  const r = await cli([...args, "--json"], env);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Waits until the job satisfies `until`, reading it from the queue. */
async function waitJob(queue: JobQueue, id: string, until: (j: any) => boolean): Promise<any> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const job = await queue.getResult(id);
    if (job !== undefined && until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there: ${job?.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("usage errors exit 2 naming the flag, before any connection", {
  concurrency: true,
}, () => {
  const cases: [string[], RegExp][] = [
    [["jobs"], /Usage: rapidai-jobs jobs <list\|show\|retry\|cancel\|logs>/],
    [["queue"], /Usage: rapidai-jobs queue <pause\|resume\|counts\|clean>/],
    [["jobs", "lsit"], /unknown jobs command "lsit" \(expected list, show/],
    [["jobs", "show", "--redis", "redis://127.0.0.1:1"], /jobs show needs a job id/],
    [["jobs", "show", "a", "b", "--redis", "redis://127.0.0.1:1"], /unexpected argument "b"/],
    [["jobs", "list"], /give --redis <URL> \(Redis directly\) or --url <URL>/],
    [["jobs", "list", "--redis", "http://x"], /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [["jobs", "list", "--url", "ftp://x"], /--url must be an http:\/\/ or https:\/\/ URL/],
    [
      ["jobs", "list", "--url", "http://x", "--redis", "redis://x"],
      /only one of --redis and --url/,
    ],
    [["jobs", "list", "--url", "http://x", "--prefix", "p:"], /--prefix only applies with --redis/],
    [
      ["jobs", "list", "--status", "done", "--redis", "redis://x"],
      /--status must be one of pending/,
    ],
    [["jobs", "list", "--limit", "many", "--redis", "redis://x"], /--limit must be an integer/],
    [["jobs", "list", "--bogus"], /Unknown option '--bogus'/],
    [["queue", "clean", "--redis", "redis://x"], /queue clean needs --status/],
    [
      ["queue", "clean", "--status", "running", "--redis", "redis://x"],
      /--status must be one of completed, failed, cancelled/,
    ],
    [
      ["queue", "clean", "--status", "failed", "--older-than", "-5", "--redis", "redis://x"],
      /--older-than/,
    ],
    [
      ["queue", "pause", "extra", "--redis", "redis://x"],
      /Unexpected argument 'extra'|unexpected argument/,
    ],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), async () => {
      const r = await cli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    });
  }

  test("a flag wins over the other target's environment variable", async () => {
    // RAPIDAI_REDIS_URL set, --url given: the service is used (and is not running).
    const r = await cli(["queue", "counts", "--url", "http://127.0.0.1:1"], {
      RAPIDAI_REDIS_URL: "redis://127.0.0.1:1",
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the service at http:\/\/127\.0\.0\.1:1/);
  });
});

describe("--help", { concurrency: true }, () => {
  const commands: [string, string, string[]][] = [
    ["jobs", "list", ["--status", "--task", "--limit", "--offset"]],
    ["jobs", "show", ["<job id>"]],
    ["jobs", "retry", ["<job id>"]],
    ["jobs", "cancel", ["<job id>"]],
    ["jobs", "logs", ["<job id>"]],
    ["queue", "pause", []],
    ["queue", "resume", []],
    ["queue", "counts", []],
    ["queue", "clean", ["--status", "--older-than", "--limit"]],
  ];
  for (const [group, name, flags] of commands) {
    test(`${group} ${name} --help shows its options and exits 0`, async () => {
      const r = await cli([group, name, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: rapidai-jobs ${group} ${name}`));
      for (const flag of [...flags, "--redis", "--prefix", "--url", "--token", "--json"]) {
        assert.ok(r.stdout.includes(flag), `${flag} in ${group} ${name} --help`);
      }
    });
  }
  test("jobs --help and queue --help list their commands", async () => {
    const jobs = await cli(["jobs", "--help"]);
    assert.equal(jobs.code, 0);
    for (const word of ["list", "show", "retry", "cancel", "logs"])
      assert.match(jobs.stdout, new RegExp(`  ${word} `));
    const queue = await cli(["queue", "--help"]);
    for (const word of ["pause", "resume", "counts", "clean"])
      assert.match(queue.stdout, new RegExp(`  ${word} `));
    const top = await cli(["--help"]);
    assert.match(top.stdout, /jobs +Operate jobs/);
    assert.match(top.stdout, /queue +Operate the queue/);
  });
});

/**
 * The same session of commands against either target: `target` is the
 * flags that point at it, `queue` the queue behind it (to enqueue and watch).
 */
function operateScenario(
  test: SuiteApi["test"],
  setup: () => { target: string[]; queue: JobQueue },
) {
  test("jobs list, show and logs read a failed job; retry runs it again", async () => {
    const { target, queue } = setup();
    const id = `cli-${randomUUID()}`;
    await queue.enqueue(id, "flip", [true]);
    await waitJob(queue, id, (j) => j.status === "failed");

    const list = await json(["jobs", "list", "--status", "failed", "--limit", "500", ...target]);
    const row = list.jobs.find((j: any) => j.job_id === id);
    assert.equal(row.task, "flip");
    assert.equal(row.status, "failed");
    const human = await cli(["jobs", "list", "--status", "failed", "--limit", "500", ...target]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^ID +TASK +STATUS +ATTEMPTS +CREATED\n/);
    assert.match(human.stdout, new RegExp(`${id} +flip +failed +1 `));

    const shown = await json(["jobs", "show", id, ...target]);
    assert.equal(shown.status, "failed");
    assert.equal(shown.error, "flip failed on purpose");
    assert.deepEqual(shown.args, [true]);
    const showText = await cli(["jobs", "show", id, ...target]);
    assert.match(showText.stdout, /status: +failed/);
    assert.match(showText.stdout, /error: +flip failed on purpose/);

    const logs = await cli(["jobs", "logs", id, ...target]);
    assert.equal(logs.code, 0);
    assert.equal(logs.stdout, "about to fail\n");

    assert.deepEqual(await json(["jobs", "retry", id, ...target]), {
      job_id: id,
      status: "pending",
    });
    const again = await waitJob(queue, id, (j) => j.status === "failed" && j.attempts === 2);
    assert.equal(again.error, "flip failed on purpose");
  });

  test("retry of a completed job and show of an unknown one exit 1 saying why", async () => {
    const { target, queue } = setup();
    const id = `cli-${randomUUID()}`;
    await queue.enqueue(id, "flip", [false]);
    await waitJob(queue, id, (j) => j.status === "completed");
    const r = await cli(["jobs", "retry", id, ...target]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot retry a completed job: only a failed or cancelled job/);
    const missing = await cli(["jobs", "show", "no-such-job", ...target]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /job no-such-job: Job not found/);
    const cancelDone = await cli(["jobs", "cancel", id, ...target]);
    assert.equal(cancelDone.code, 1);
    assert.match(cancelDone.stderr, /Cannot cancel a completed job/);
  });

  test("jobs cancel stops a running job", async () => {
    const { target, queue } = setup();
    const id = `cli-${randomUUID()}`;
    await queue.enqueue(id, "hold", [60_000]);
    await waitJob(queue, id, (j) => j.status === "running");
    const r = await cli(["jobs", "cancel", id, ...target]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `job ${id}: cancelled\n`);
    await waitJob(queue, id, (j) => j.status === "cancelled");
  });

  test("queue pause, counts, resume and clean", async () => {
    const { target, queue } = setup();
    assert.deepEqual(await json(["queue", "pause", ...target]), { paused: true });
    assert.equal(await queue.isPaused(), true);
    const counts = await json(["queue", "counts", ...target]);
    assert.equal(counts.paused, true);
    assert.deepEqual(counts.counts, await queue.countJobs());
    const text = await cli(["queue", "counts", ...target]);
    assert.match(text.stdout, /^paused \((memory|redis) queue\)\nSTATUS +JOBS\npending +\d+/);
    assert.deepEqual(await json(["queue", "resume", ...target]), { paused: false });
    assert.equal(await queue.isPaused(), false);

    const id = `cli-${randomUUID()}`;
    await queue.enqueue(id, "flip", [true]);
    await waitJob(queue, id, (j) => j.status === "failed");
    const failed = (await queue.countJobs()).failed;
    assert.deepEqual(await json(["queue", "clean", "--status", "failed", ...target]), {
      removed: failed,
    });
    assert.equal(await queue.getResult(id), undefined);
    const none = await cli(["queue", "clean", "--status", "failed", ...target]);
    assert.equal(none.stdout, "removed 0 jobs\n");
  });
}

suiteWithRedis("rapidai-jobs jobs and queue against Redis (--redis)", ({ before, after, test }) => {
  let server: RedisHandle;
  let queue: RedisQueue;
  const prefix = `ops:${randomUUID()}:`;
  before(async () => {
    server = await startRedis();
    queue = new RedisQueue({ url: server.url, prefix, threads: 2 });
    await queue.start();
  });
  after(async () => {
    await queue?.close({ timeoutMs: 2000 });
    await server?.stop();
  });
  operateScenario(test, () => ({ target: ["--redis", server.url, "--prefix", prefix], queue }));
});

describe("rapidai-jobs jobs and queue against a running service (--url)", () => {
  const token = "ops-cli-token";
  const queue = getQueue("memory", { threads: 2 });
  let svc: RunningService;
  before(async () => {
    svc = await startService({ queue, token });
  });
  after(async () => {
    await svc.close();
    await queue.close({ timeoutMs: 2000 });
  });
  operateScenario(test, () => ({ target: ["--url", svc.base, "--token", token], queue }));

  test("a wrong token exits 1 pointing at --token", async () => {
    const r = await cli(["queue", "counts", "--url", svc.base], { RAPIDAI_TOKEN: "wrong" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused the request \(Invalid token\): check --token/);
  });
});
