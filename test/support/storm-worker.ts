/**
 * A Redis worker process for the cancel storm: like `rapidai-jobs worker`,
 * but with a short cancel grace period, which the command line does not set.
 * Arguments: <redis url> <prefix> <threads> <cancelGraceMs>.
 */
import { RedisQueue } from "rapidai/background";
import "../fixtures/cancel-storm-tasks.js";
import { warningLogger } from "./warning-lines.js";

const [url, prefix, threads, grace] = process.argv.slice(2);
const queue = new RedisQueue({
  url: url!,
  prefix: prefix!,
  threads: Number(threads),
  cancelGraceMs: Number(grace),
  logger: warningLogger,
});
await queue.start();
console.log("rapidai-jobs worker ready (cancel storm)");
process.once("SIGTERM", () => {
  void queue.close({ timeoutMs: 1000 }).then(() => process.exit(0));
});
