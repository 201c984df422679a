/**
 * The same conformance suite against both backends: the in-memory queue, and
 * the Redis queue on a private redis-server (one per file, a fresh key prefix
 * per test).
 */
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import { InMemoryQueue, RedisQueue } from "rapidai/background";
import { failureRecordConformance } from "./conformance/failure-records.js";
import { type QueueFactory, queueConformance } from "./conformance/queue-conformance.js";
import { describeWithRedis, type RedisHandle, startRedis } from "./support/redis-server.js";

const memory: QueueFactory = (o = {}) =>
  new InMemoryQueue({
    ...(o.threads === undefined ? {} : { threads: o.threads }),
    ...(o.cancelGraceMs === undefined ? {} : { cancelGraceMs: o.cancelGraceMs }),
  });
queueConformance("InMemoryQueue", memory);
failureRecordConformance("InMemoryQueue", memory);

describeWithRedis("RedisQueue backend", () => {
  let server: RedisHandle | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => server?.stop());
  const redis: QueueFactory = (o = {}) =>
    new RedisQueue({
      url: server!.url,
      prefix: `conf:${randomUUID()}:`,
      ...(o.threads === undefined ? {} : { threads: o.threads }),
      ...(o.cancelGraceMs === undefined ? {} : { cancelGraceMs: o.cancelGraceMs }),
      ...(o.strictOrder ? { prefetch: 0 } : {}),
    });
  queueConformance("RedisQueue", redis);
  failureRecordConformance("RedisQueue", redis);
});
