/**
 * Watches a restarted old master through its stale window: from the moment
 * it answers again (still believing it is the master) until Sentinel turns
 * it into a replica (`REPLICAOF`). It records, with MONITOR, every command
 * any client sends it in that window, and with `MULTI ROLE INFO
 * commandstats EXEC` (one atomic snapshot) the commands it executed while
 * its role was still master. What the queue's processes must never do
 * there: connect (`CLIENT SETNAME rapidai:…`), read or write a key, run a
 * script, publish an event.
 */
import { Redis } from "ioredis";
import { monitorCommands } from "./redis-monitor.js";

/** Commands Sentinel and this watcher send to a node it watches; anything else is a client's. */
const OURS = new Set(["ping", "info", "role", "multi", "exec", "hello", "auth", "command"]);

export interface StaleWindow {
  /** Milliseconds from the restart until ROLE answered "slave". */
  windowMs: number;
  /** How many ROLE polls saw it as master (proves the window was real). */
  masterPolls: number;
  /** Commands in the window not sent by Sentinel or the watcher, as `cmd args…`. */
  foreign: string[];
  /** Script and key commands executed while it was master, from INFO commandstats. */
  executed: Record<string, number>;
}

/** Commands the queue's processes would run on a master (scripts, keys, pub/sub). */
const QUEUE_COMMANDS =
  /^cmdstat_(?!hello\b)(evalsha|evalsha_ro|eval|eval_ro|fcall|script|h\w+|z\w+|l\w+|x\w+|set|get|del|exists|wait|spublish|ssubscribe|psubscribe|scan|type|time)\b/;

function allowed(args: string[]): boolean {
  const [cmd = "", a1 = "", a2 = ""] = args.map((a) => a.toLowerCase());
  if (OURS.has(cmd)) return true;
  if (cmd === "publish" || cmd === "subscribe") return a1 === "__sentinel__:hello";
  if (cmd === "client") return a1 === "setinfo" || (a1 === "setname" && a2.startsWith("sentinel-"));
  return false;
}

/**
 * Call right after the node on `port` was restarted (it answers PING).
 * Resolves once it reports role "slave", or rejects after `timeoutMs`.
 */
export async function watchStaleWindow(port: number, timeoutMs = 60_000): Promise<StaleWindow> {
  const t0 = Date.now();
  const foreign: string[] = [];
  let demoted = false;
  const monitor = await monitorCommands(port, "127.0.0.1", (args) => {
    const cmd = args[0]?.toLowerCase();
    if (cmd === "slaveof" || cmd === "replicaof") demoted = true;
    if (!demoted && !allowed(args)) foreign.push(args.join(" ").slice(0, 200));
  });
  let masterPolls = 0;
  let executed: Record<string, number> = {};
  try {
    for (;;) {
      const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
      c.on("error", () => {});
      const snapshot = await c
        .connect()
        .then(() => c.multi().call("ROLE").info("commandstats").exec())
        .catch(() => null)
        .finally(() => c.disconnect());
      if (snapshot) {
        const role = (snapshot[0]?.[1] as unknown[] | undefined)?.[0];
        if (role === "master") {
          masterPolls++;
          executed = queueCommands(String(snapshot[1]?.[1] ?? ""));
        } else if (role === "slave") break;
      }
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`the old master on ${port} was not demoted within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return { windowMs: Date.now() - t0, masterPolls, foreign, executed };
  } finally {
    monitor.destroy();
  }
}

function queueCommands(info: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of info.split("\n")) {
    const name = /^(cmdstat_[\w|]+):calls=(\d+)/.exec(line.trim());
    if (name && QUEUE_COMMANDS.test(name[1]!)) out[name[1]!] = Number(name[2]);
  }
  return out;
}
