import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { attemptSpan, enqueueSpan } from "../../src/tracing.js";
import { lastJson, run } from "./child.js";

const OTHER_PROCESS = fileURLToPath(new URL("../fixtures/trace-attempt.js", import.meta.url));
const info = { task: "resize", jobId: "job-1", backend: "redis" as const };

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

function finished(name: string): ReadableSpan {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  assert.ok(span, `no finished span named ${name}`);
  return span;
}

describe("tracing with no OpenTelemetry SDK registered", () => {
  it("is a no-op: no carrier to store, and ending spans does nothing", () => {
    const enqueue = enqueueSpan(info);
    assert.equal(enqueue.carrier, undefined);
    enqueue.end();
    attemptSpan(undefined, { ...info, attempt: 1 }).end({ outcome: "completed" });
    attemptSpan({ traceparent: "garbage" }, { ...info, attempt: 1 }).end({ outcome: "failed" });
  });
});

describe("tracing with an SDK registered", () => {
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

  it("makes an enqueue a PRODUCER span under the caller's active span, with messaging attributes", () => {
    const request = trace.getTracer("app").startSpan("POST /images");
    const enqueue = context.with(trace.setSpan(context.active(), request), () => enqueueSpan(info));
    enqueue.end();
    request.end();
    const span = finished("enqueue resize");
    assert.equal(span.kind, SpanKind.PRODUCER);
    assert.equal(span.spanContext().traceId, request.spanContext().traceId);
    assert.equal(span.parentSpanContext?.spanId, request.spanContext().spanId);
    assert.deepEqual(span.attributes, {
      "messaging.system": "rapidai",
      "messaging.operation.type": "send",
      "messaging.operation.name": "enqueue",
      "messaging.destination.name": "resize",
      "messaging.message.id": "job-1",
      "rapidai.backend": "redis",
    });
    assert.equal(span.instrumentationScope.name, "rapidai");
  });

  it("makes each attempt a CONSUMER span, child of the enqueue and linked to it", () => {
    const enqueue = enqueueSpan(info);
    enqueue.end();
    for (const attempt of [1, 2]) {
      attemptSpan(enqueue.carrier, { ...info, attempt }).end({
        outcome: attempt === 1 ? "retrying" : "completed",
        ...(attempt === 1 ? { error: { name: "Error", message: "flaky" } } : {}),
      });
    }
    const producer = finished("enqueue resize");
    const attempts = exporter.getFinishedSpans().filter((s) => s.name === "process resize");
    assert.equal(attempts.length, 2);
    for (const [i, span] of attempts.entries()) {
      assert.equal(span.kind, SpanKind.CONSUMER);
      assert.equal(span.spanContext().traceId, producer.spanContext().traceId);
      assert.equal(span.parentSpanContext?.spanId, producer.spanContext().spanId);
      assert.deepEqual(
        span.links.map((l) => l.context.spanId),
        [producer.spanContext().spanId],
      );
      assert.equal(span.attributes["messaging.operation.type"], "process");
      assert.equal(span.attributes["rapidai.job.attempt"], i + 1);
    }
    assert.equal(attempts[0]!.attributes["rapidai.job.outcome"], "retrying");
    assert.equal(attempts[0]!.status.code, SpanStatusCode.ERROR);
    assert.equal(attempts[1]!.attributes["rapidai.job.outcome"], "completed");
    assert.equal(attempts[1]!.status.code, SpanStatusCode.UNSET);
  });

  it("starts a trace of its own for a job stored with no carrier, not the scheduler's context", () => {
    const unrelated = trace.getTracer("app").startSpan("unrelated");
    context.with(trace.setSpan(context.active(), unrelated), () =>
      attemptSpan(undefined, { ...info, attempt: 1 }).end({ outcome: "completed" }),
    );
    unrelated.end();
    const span = finished("process resize");
    assert.notEqual(span.spanContext().traceId, unrelated.spanContext().traceId);
    assert.equal(span.parentSpanContext, undefined);
    assert.deepEqual(span.links, []);
  });

  it("records a failed attempt's error with its code as error.type", () => {
    attemptSpan(enqueueSpan(info).carrier, { ...info, attempt: 3 }).end({
      outcome: "failed",
      error: { name: "JobError", message: "the job timed out", code: "ERR_JOB_TIMEOUT" },
    });
    const span = finished("process resize");
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, "the job timed out");
    assert.equal(span.attributes["error.type"], "ERR_JOB_TIMEOUT");
    assert.equal(span.events[0]?.name, "exception");
  });

  it("marks an enqueue that the store refused as failed", () => {
    enqueueSpan(info).end(
      Object.assign(new Error("Redis is down"), { code: "ERR_BACKEND_UNAVAILABLE" }),
    );
    const span = finished("enqueue resize");
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes["error.type"], "ERR_BACKEND_UNAVAILABLE");
  });

  it("parents a follow-up enqueued from inside a running attempt on that attempt", () => {
    const attempt = attemptSpan(enqueueSpan(info).carrier, { ...info, attempt: 1 });
    enqueueSpan({
      task: "thumbnail",
      jobId: "job-2",
      backend: "redis",
      parentJobId: "job-1",
    }).end();
    attempt.end({ outcome: "completed" });
    // Once the attempt ended, an enqueue naming it falls back to the active context.
    enqueueSpan({ task: "late", jobId: "job-3", backend: "redis", parentJobId: "job-1" }).end();
    const parent = finished("process resize");
    assert.equal(
      finished("enqueue thumbnail").parentSpanContext?.spanId,
      parent.spanContext().spanId,
    );
    assert.equal(finished("enqueue late").parentSpanContext, undefined);
  });

  it("uses the registered propagator's fields for the carrier, and reads them back", () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const request = trace.getTracer("app").startSpan("request");
      const ctx = trace.setSpan(context.active(), request);
      const enqueue = context.with(ctx, () => enqueueSpan(info));
      enqueue.end();
      request.end();
      assert.match(enqueue.carrier?.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      attemptSpan(enqueue.carrier, { ...info, attempt: 1 }).end({ outcome: "completed" });
      assert.equal(
        finished("process resize").parentSpanContext?.spanId,
        finished("enqueue resize").spanContext().spanId,
      );
    } finally {
      propagation.disable();
    }
  });

  it("links an attempt run by another process to the enqueue, through the stored carrier", async () => {
    const enqueue = enqueueSpan(info);
    enqueue.end();
    // The carrier as it is stored with the job and read back elsewhere: JSON strings.
    const ran = await run(process.execPath, [OTHER_PROCESS, JSON.stringify(enqueue.carrier)], {
      cwd: process.cwd(),
    });
    assert.equal(ran.code, 0, ran.stderr);
    const remote = lastJson<{
      name: string;
      traceId: string;
      parentSpanId: string;
      links: string[];
    }>(ran.stdout);
    const producer = finished("enqueue resize").spanContext();
    assert.deepEqual(remote, {
      name: "process resize",
      traceId: producer.traceId,
      parentSpanId: producer.spanId,
      links: [producer.spanId],
    });
  });
});
