/**
 * Spans through the queues themselves: an enqueue's PRODUCER span and the
 * CONSUMER span of the attempt that ran the job, linked across the thread
 * (memory) and across the store (Redis: the trace context travels in the job
 * record).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, beforeEach, it } from "node:test";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { InMemoryQueue, type JobQueue, RedisQueue } from "rapidai/background";
import "../fixtures/redis-tasks.js";
import { describeWithRedis, redisFixture } from "../support/redis-server.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

before(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
after(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

function spansOf(jobId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.attributes["messaging.message.id"] === jobId);
}

async function checkTrace(queue: JobQueue, backend: "memory" | "redis"): Promise<void> {
  const jobId = randomUUID();
  await queue.enqueue(jobId, "rq.pid", []);
  const r = await queue.waitFor(jobId, { timeoutMs: 20_000 });
  assert.equal(r.status, "completed");
  // The attempt's span ends with its outcome, just before the end is written.
  const spans = spansOf(jobId);
  const producer = spans.find((s) => s.kind === SpanKind.PRODUCER);
  const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER);
  assert.ok(producer, "an enqueue span");
  assert.ok(consumer, "an attempt span");
  assert.equal(producer.name, "enqueue rq.pid");
  assert.equal(consumer.name, "process rq.pid");
  assert.equal(consumer.spanContext().traceId, producer.spanContext().traceId);
  assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId);
  assert.equal(consumer.attributes["rapidai.backend"], backend);
  assert.equal(consumer.attributes["rapidai.job.attempt"], 1);
  assert.equal(consumer.attributes["rapidai.job.outcome"], "completed");
}

it("links the attempt's span to its enqueue on the in-memory queue", async () => {
  const queue = new InMemoryQueue({ threads: 1 });
  try {
    await checkTrace(queue, "memory");
  } finally {
    await queue.close();
  }
});

describeWithRedis("tracing through Redis", () => {
  const redis = redisFixture();
  it("carries the trace context in the job record to the worker that runs it", async () => {
    const prefix = `trace:${randomUUID()}:`;
    const producer = new RedisQueue({ url: redis.server.url, prefix, process: false });
    const worker = new RedisQueue({ url: redis.server.url, prefix, threads: 1 });
    try {
      await worker.start();
      await checkTrace(producer, "redis");
    } finally {
      await producer.close();
      await worker.close();
    }
  });
});
