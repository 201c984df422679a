import { ErrorCode, type ErrorCodeValue, type JobError, jobError } from "../errors.js";

/**
 * The codes that will not heal by retrying: the deployment or the ACL is
 * wrong. A worker stops at start-up on them (see `rapidai-jobs worker`)
 * instead of retrying for ever.
 */
export const PERMANENT_CODES: ReadonlySet<string> = new Set<ErrorCodeValue>([
  ErrorCode.REDIS_MOVED,
  ErrorCode.REDIS_CROSSSLOT,
  ErrorCode.REDIS_NOPERM,
]);

/** True for a coded error that retrying cannot fix. */
export function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && PERMANENT_CODES.has(code);
}

/**
 * The coded error for a Redis reply that says what is wrong with the
 * deployment, or undefined for any other failure. `target` names what the
 * queue connects to, `deployment` how (`url`, `cluster` or `sentinels`).
 */
export function deploymentError(
  target: string,
  deployment: "single" | "cluster" | "sentinel",
  error: unknown,
): JobError | undefined {
  const clustered = deployment === "cluster";
  const message = (error as Error | undefined)?.message ?? String(error);
  const reply = /^(MOVED|ASK|CROSSSLOT|READONLY|NOPERM)\b/.exec(message)?.[1];
  switch (reply) {
    case "MOVED":
    case "ASK":
      return jobError(
        ErrorCode.REDIS_MOVED,
        `${target} is one node of a Redis Cluster and another node serves the queue's keys (${message}): ` +
          'connect with the `cluster` option, e.g. new RedisQueue({ cluster: [{ host, port }], prefix: "{myapp}:jobs:" })',
        error,
      );
    case "CROSSSLOT":
      return jobError(
        ErrorCode.REDIS_CROSSSLOT,
        `${target} refused keys of one queue in several cluster slots (${message}): ` +
          'give the prefix a {hash tag}, e.g. "{myapp}:jobs:"' +
          (clustered ? "" : ", and connect with the `cluster` option"),
        error,
      );
    case "READONLY":
      return jobError(
        ErrorCode.REDIS_READONLY,
        `${target} is a read-only replica (${message}): ` +
          (deployment === "cluster"
            ? "the cluster is failing over; the client follows the new master"
            : deployment === "sentinel"
              ? "the master was demoted (a failover); the client drops the connection and asks the Sentinels for the current master"
              : "point `url` at the master, or connect through Sentinel (`sentinels` and `name`) so the client follows failovers"),
        error,
      );
    case "NOPERM":
      return jobError(
        ErrorCode.REDIS_NOPERM,
        `${target} refused the queue's user (${message}): grant it the queue's keys and channels and the commands ` +
          "the queue runs, e.g. ACL SETUSER <user> on ~<prefix>* &<prefix>* +@read +@write +@scripting +@pubsub +@connection",
        error,
      );
    default:
      return undefined;
  }
}
