/**
 * A producer process for the multi-host tests: run on a test host (see
 * net-hosts.ts) with an IPC channel, it opens a RedisQueue that only
 * enqueues (`process: false`) and does what its parent asks, because the
 * parent, outside the namespaces, cannot reach Redis at all.
 *
 * Messages in: `{ id, call, args }` calls that method of the queue;
 * `{ id, call: "redisInfo", args: [section] }` returns Redis's INFO text.
 * Messages out: `{ id, value }` or `{ id, error, code }`, the queue's events
 * as `{ event, e }` once `{ id, call: "listen", args: [names] }` asked for
 * them, and `{ ready: hostname }` once the queue answered.
 *
 * argv: <redis url> <prefix> [task module]
 */
import { hostname } from "node:os";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { RedisQueue } from "rapidai/background";

interface Call {
  id: number;
  call: string;
  args: unknown[];
}

const [url, prefix, tasks] = process.argv.slice(2);
if (url === undefined || prefix === undefined || process.send === undefined) {
  console.error("usage: net-agent <redis url> <prefix> [task module], with an IPC channel");
  process.exit(2);
}
if (tasks !== undefined) await import(pathToFileURL(tasks).href);

const send = (m: unknown) => process.send?.(m);
const queue = new RedisQueue({ url, prefix, process: false });
const raw = new Redis(url);

async function run(c: Call): Promise<unknown> {
  if (c.call === "redisInfo") return raw.info(String(c.args[0] ?? "default"));
  if (c.call === "listen") {
    for (const name of c.args[0] as string[]) {
      queue.on(name as "completed", (e: unknown) => send({ event: name, e }));
    }
    return true;
  }
  if (c.call === "close") {
    raw.disconnect();
    await queue.close();
    setImmediate(() => process.exit(0));
    return true;
  }
  const method = (queue as unknown as Record<string, unknown>)[c.call];
  if (typeof method !== "function") throw new Error(`the queue has no method ${c.call}`);
  return (method as (...a: unknown[]) => unknown).apply(queue, c.args);
}

process.on("message", (m: Call) => {
  run(m).then(
    (value) => send({ id: m.id, value }),
    (error: unknown) => {
      const e = error as { message?: string; code?: string };
      send({ id: m.id, error: e?.message ?? String(error), code: e?.code });
    },
  );
});
// The parent's end closing means the test is over.
process.on("disconnect", () => process.exit(0));

await queue.countJobs();
send({ ready: hostname() });
