/**
 * The same conformance suite against both backends: the in-memory queue, and
 * the Redis queue on a private redis-server (one per file, a fresh key prefix
 * per queue).
 */
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import { getQueue, InMemoryQueue, type JobQueue, RedisQueue } from "rapidai/background";
import type { Backend, CaseQueueOptions } from "./conformance/case-support.js";
import { computeConformance } from "./conformance/compute-conformance.js";
import { failureRecordConformance } from "./conformance/failure-records.js";
import { flowConformance } from "./conformance/flow-conformance.js";
import { operatingConformance } from "./conformance/operating-conformance.js";
import { queueConformance } from "./conformance/queue-conformance.js";
import { describeWithRedis, type RedisHandle, startRedis } from "./support/redis-server.js";

/** The queue options a case asked for, without the ones that are not the queue's. */
function queueOptions(o: object): Record<string, unknown> {
  const { asDefault: _, strictOrder: __, ...rest } = o as Record<string, unknown>;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

/** Every suite against one backend. */
function allSuites(backend: Backend): void {
  queueConformance(backend.name, (o = {}) =>
    backend.open({
      ...(o.threads === undefined ? {} : { threads: o.threads }),
      ...(o.cancelGraceMs === undefined ? {} : { cancelGraceMs: o.cancelGraceMs }),
      ...(o.strictOrder ? { strictOrder: true } : {}),
    } as CaseQueueOptions),
  );
  operatingConformance(backend);
  flowConformance(backend);
  computeConformance(backend);
  failureRecordConformance(backend.name, (o = {}) => backend.open(o as CaseQueueOptions));
}

allSuites({
  name: "InMemoryQueue",
  open: (o = {}) =>
    o.asDefault ? getQueue("memory", queueOptions(o)) : new InMemoryQueue(queueOptions(o)),
});

describeWithRedis("RedisQueue backend", () => {
  let server: RedisHandle | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => server?.stop());
  const prefixes = new WeakMap<JobQueue, string>();
  const redis = (prefix: string, o: Record<string, unknown>): JobQueue => {
    const { strictOrder, ...rest } = o;
    const options = { url: server!.url, prefix, ...rest, ...(strictOrder ? { prefetch: 0 } : {}) };
    const q = o.asDefault
      ? getQueue("redis", queueOptions(options))
      : new RedisQueue(queueOptions(options));
    prefixes.set(q, prefix);
    return q;
  };
  allSuites({
    name: "RedisQueue",
    open: (o = {}) => redis(`conf:${randomUUID()}:`, o as Record<string, unknown>),
    sibling: (of, { process }) => redis(prefixes.get(of)!, { process }),
  });
});
