import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { pollJob, request, startCli } from "../service/harness.js";

const fixtures = fileURLToPath(new URL("../service/fixtures/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "rapidai-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("rapidai-jobs serve", () => {
  test("serves the loaded tasks behind a token, and on SIGTERM lets the running job finish and exits 0", async () => {
    const token = "cli-test-token";
    const cli = await startCli(
      [
        "serve",
        "--port",
        "0",
        "--threads",
        "1",
        "--tasks",
        "demo",
        "--tasks",
        join(fixtures, "cli-tasks.js"),
      ],
      { RAPIDAI_TOKEN: token, HOST: "127.0.0.1" },
    );
    try {
      assert.match(cli.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(cli.stderr(), "", "no warning on loopback");
      const auth = { authorization: `Bearer ${token}` };
      assert.equal((await request(`${cli.url}/api/stats`)).status, 401);
      const stats = await request(`${cli.url}/api/stats`, { headers: auth });
      assert.deepEqual(stats.body.tasks, ["fail", "fib", "flaky", "primes", "sleep", "writeAfter"]);

      const fib = await request(`${cli.url}/jobs/fib`, { body: { args: [25] }, headers: auth });
      assert.equal(fib.status, 202);
      const done = await pollJob(cli.url, fib.body.job_id, undefined, auth);
      assert.equal(done.result, 75025);

      const marker = join(dir, "finished.txt");
      const slow = await request(`${cli.url}/jobs/writeAfter`, {
        body: { args: [marker, 700] },
        headers: auth,
      });
      await pollJob(cli.url, slow.body.job_id, (j) => j.status === "running", auth);
      cli.child.kill("SIGTERM");
      assert.equal(await cli.exited, 0);
      assert.equal(existsSync(marker), true, "the running job finished before the exit");
      assert.match(cli.stdout(), /SIGTERM received, shutting down/);
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("warns loudly when it listens beyond loopback without a token, and exits 0 on SIGINT", async () => {
    const cli = await startCli(["serve", "--host", "0.0.0.0", "--port", "0", "--threads", "1"]);
    try {
      assert.match(
        cli.stderr(),
        /WARNING: rapidai-jobs listens on 0\.0\.0\.0, beyond loopback, WITHOUT A TOKEN/,
      );
      const port = new URL(cli.url).port;
      const a = await request(`http://127.0.0.1:${port}/api/stats`);
      assert.equal(a.status, 200);
      cli.child.kill("SIGINT");
      assert.equal(await cli.exited, 0);
    } finally {
      cli.child.kill("SIGKILL");
    }
  });
});
