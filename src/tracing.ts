/**
 * OpenTelemetry spans for jobs, through `@opentelemetry/api` only: with no
 * SDK registered every call here is a no-op and nothing is stored with a
 * job. With one, an enqueue is a PRODUCER span whose context travels with
 * the job (a carrier of W3C trace-context strings, stored on the job record
 * in memory or in Redis), and each attempt is a CONSUMER span, child of the
 * enqueue and linked to it, in whichever thread or process runs the job.
 * Names and attributes follow OpenTelemetry's messaging semantic
 * conventions: the task is the destination, the job id the message id.
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";

/** The backend a job goes through, as the `rapidai.backend` attribute. */
export type TraceBackend = "memory" | "redis";

/**
 * Trace context stored with a job: `traceparent` (and `tracestate`, and
 * whatever the registered propagator writes), all strings, so it survives
 * any encoding of the job record.
 */
export type TraceCarrier = Record<string, string>;

/** Where a job is enqueued. */
export interface EnqueueTraceInfo {
  task: string;
  jobId: string;
  backend: TraceBackend;
  /**
   * The job whose attempt enqueues this one (a follow-up enqueued from a job
   * body on a worker thread): that attempt's span is the parent. Else the
   * caller's active context is. @default the active context
   */
  parentJobId?: string;
}

/** One attempt of a job. */
export interface AttemptTraceInfo {
  task: string;
  jobId: string;
  backend: TraceBackend;
  /** 1 for the first attempt. */
  attempt: number;
}

/** How an attempt ended, for its span. */
export interface AttemptEnd {
  /** What the engine does next: the job's new status, or `retrying`. */
  outcome: "completed" | "failed" | "retrying" | "cancelled";
  /** The attempt's error, when it did not complete. */
  error?: { name?: string; message: string; code?: string };
}

/** An enqueue's span. */
export interface EnqueueTrace {
  /** What to store with the job; undefined when nothing traces (no SDK). */
  readonly carrier: TraceCarrier | undefined;
  /** Ends the span; with the error when the job was not stored. */
  end(error?: unknown): void;
}

/** An attempt's span. */
export interface AttemptTrace {
  /** Ends the span with the attempt's outcome. Later calls do nothing. */
  end(end: AttemptEnd): void;
}

const SYSTEM = "rapidai";
const TRACER = "rapidai";

// Spans of the attempts running in this process, by job id: the parent of a
// follow-up enqueued from inside one of them.
const running = new Map<string, Span>();

const tracer = () => trace.getTracer(TRACER);

/** The provider no SDK replaced: every span it makes is a no-op. */
const NOOP_PROVIDER = (
  trace.getTracerProvider() as { getDelegate?: () => unknown }
).getDelegate?.();

/**
 * True once an SDK registered a tracer provider. Checked on every job, so
 * that with none (the common case) a job costs no span objects at all.
 */
export function tracing(): boolean {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  return provider.getDelegate === undefined || provider.getDelegate() !== NOOP_PROVIDER;
}

const NO_ENQUEUE: EnqueueTrace = Object.freeze({ carrier: undefined, end() {} });
const NO_ATTEMPT: AttemptTrace = Object.freeze({ end() {} });

/** The attributes both kinds of span share (messaging semantic conventions). */
function attributes(
  operation: "send" | "process",
  name: string,
  info: { task: string; jobId: string; backend: TraceBackend },
): Attributes {
  return {
    "messaging.system": SYSTEM,
    "messaging.operation.type": operation,
    "messaging.operation.name": name,
    "messaging.destination.name": info.task,
    "messaging.message.id": info.jobId,
    "rapidai.backend": info.backend,
  };
}

/**
 * Starts the span of one enqueue. Call it before the job is stored, store
 * `carrier` with the job (when defined), and `end()` once the store answered.
 */
export function enqueueSpan(info: EnqueueTraceInfo): EnqueueTrace {
  if (!tracing()) return NO_ENQUEUE;
  const parentSpan = info.parentJobId === undefined ? undefined : running.get(info.parentJobId);
  const parent =
    parentSpan === undefined ? context.active() : trace.setSpan(context.active(), parentSpan);
  const span = tracer().startSpan(
    `enqueue ${info.task}`,
    { kind: SpanKind.PRODUCER, attributes: attributes("send", "enqueue", info) },
    parent,
  );
  return {
    carrier: toCarrier(trace.setSpan(parent, span), span.spanContext()),
    end(error?: unknown) {
      if (error !== undefined) fail(span, describe(error));
      span.end();
    },
  };
}

/**
 * Starts the span of one attempt, child of the enqueue that `carrier` came
 * from (a job with no carrier starts a trace of its own, never one of the
 * scheduler's unrelated context). Call `end()` once the attempt's outcome is
 * decided.
 */
export function attemptSpan(
  carrier: TraceCarrier | undefined,
  info: AttemptTraceInfo,
): AttemptTrace {
  if (!tracing()) return NO_ATTEMPT;
  const parent = fromCarrier(carrier);
  const producer = trace.getSpanContext(parent);
  const links: Link[] = producer === undefined ? [] : [{ context: producer }];
  const span = tracer().startSpan(
    `process ${info.task}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...attributes("process", "process", info),
        "rapidai.job.attempt": info.attempt,
      },
      links,
    },
    parent,
  );
  if (span.isRecording()) running.set(info.jobId, span);
  let ended = false;
  return {
    end(end: AttemptEnd) {
      if (ended) return;
      ended = true;
      if (running.get(info.jobId) === span) running.delete(info.jobId);
      span.setAttribute("rapidai.job.outcome", end.outcome);
      if (end.error !== undefined && end.outcome !== "completed") fail(span, end.error);
      span.end();
    },
  };
}

function describe(error: unknown): { name?: string; message: string; code?: string } {
  const e = error as { name?: unknown; message?: unknown; code?: unknown } | null;
  return {
    message: typeof e?.message === "string" ? e.message : String(error),
    ...(typeof e?.name === "string" ? { name: e.name } : {}),
    ...(typeof e?.code === "string" ? { code: e.code } : {}),
  };
}

function fail(span: Span, error: { name?: string; message: string; code?: string }): void {
  // error.type: the stable code when there is one, else the error's class.
  span.setAttribute("error.type", error.code ?? error.name ?? "Error");
  span.recordException({ name: error.name ?? "Error", message: error.message, code: error.code });
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/**
 * The registered propagator's fields; else, when no propagator is set (a
 * tracer provider registered on its own), the W3C `traceparent` written
 * here, so that a job still links to its enqueue.
 */
function toCarrier(ctx: Context, spanContext: SpanContext): TraceCarrier | undefined {
  if (!trace.isSpanContextValid(spanContext)) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  if (Object.keys(carrier).length > 0) return carrier;
  const flags = spanContext.traceFlags.toString(16).padStart(2, "0");
  return { traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}` };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function fromCarrier(carrier: TraceCarrier | undefined): Context {
  if (carrier === undefined || carrier === null || typeof carrier !== "object") return ROOT_CONTEXT;
  const extracted = propagation.extract(ROOT_CONTEXT, carrier);
  if (trace.getSpanContext(extracted) !== undefined) return extracted;
  const match = TRACEPARENT.exec(carrier.traceparent ?? "");
  if (match === null) return ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  };
  return trace.isSpanContextValid(spanContext)
    ? trace.setSpanContext(ROOT_CONTEXT, spanContext)
    : ROOT_CONTEXT;
}
