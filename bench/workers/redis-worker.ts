/**
 * A dedicated worker process for the Redis scaling scenario: it runs the
 * benchmark's tasks from a RedisQueue until the parent says stop.
 * argv: <redis url> <key prefix> <threads>
 */
import { getQueue } from "rapidai/background";
import "../tasks.js";

const [url, prefix, threads] = process.argv.slice(2);
const queue = getQueue("redis", { url, prefix, threads: Number(threads) });
await queue.start();
process.on("message", async (message) => {
  if (message !== "stop") return;
  await queue.close();
  // Closed cleanly; exit now rather than wait for idle sockets to time out.
  process.exit(0);
});
process.send?.("ready");
