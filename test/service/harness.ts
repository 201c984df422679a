/**
 * Helpers for the service tests: a real service on a free port, real HTTP
 * with fetch, a server-sent-event reader, and the real command line as a
 * child process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import type { JobQueue } from "rapidai/background";
import { createService, type ServiceOptions } from "rapidai/service";

/** The compiled `rapidai-jobs` entry. */
export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface RunningService {
  base: string;
  close(): Promise<void>;
}

/** Starts `createService` on 127.0.0.1 and a free port. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const app = createService({ processMetrics: false, ...options });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address !== "object") throw new Error("no address");
  return { base: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/**
 * A service on `queue` for every test of the calling file: started before
 * them, closed (and the queue with it) after them. Read `base` inside tests.
 */
export function serviceForFile(
  queue: JobQueue,
  options: Omit<ServiceOptions, "queue"> = {},
): { readonly base: string } {
  let svc: RunningService | undefined;
  before(async () => {
    svc = await startService({ queue, ...options });
  });
  after(async () => {
    await svc?.close();
    await closeQueue(queue);
  });
  return {
    get base() {
      if (svc === undefined) throw new Error("the service starts before the tests");
      return svc.base;
    },
  };
}

/** A fetch answer with its body read as JSON (or text when it is not JSON). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function request(
  url: string,
  init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Enqueues through the API and returns the job id (asserting the 202). */
export async function enqueue(
  base: string,
  task: string,
  args: unknown[],
  headers: Record<string, string> = {},
): Promise<string> {
  const a = await request(`${base}/jobs/${task}`, { body: { args }, headers });
  if (a.status !== 202) throw new Error(`enqueue ${task} answered ${a.status}: ${a.text}`);
  return a.body.job_id as string;
}

/** Polls `GET /jobs/:id` until `until` holds (by default: the job is done). */
export async function pollJob(
  base: string,
  id: string,
  until: (job: any) => boolean = (job) => ["completed", "failed", "cancelled"].includes(job.status),
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await request(`${base}/jobs/${id}`, { headers });
    if (a.status === 200 && until(a.body)) return a.body;
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there in time: ${a.text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One server-sent event (comments are kept as `event: ":"`). */
export interface SseEvent {
  event: string;
  data: any;
}

/**
 * Opens an event stream and collects events until `until` returns true for
 * the list so far (or the time is up), then disconnects.
 */
export async function readEvents(
  url: string,
  until: (events: SseEvent[]) => boolean,
  options: { headers?: Record<string, string>; timeoutMs?: number; onOpen?: () => unknown } = {},
): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 10_000);
  const events: SseEvent[] = [];
  const res = await fetch(url, { headers: options.headers ?? {}, signal: controller.signal });
  const contentType = res.headers.get("content-type");
  if (res.status !== 200 || res.body === null) {
    clearTimeout(timer);
    await res.text();
    return { status: res.status, contentType, events };
  }
  await options.onOpen?.();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        events.push(parseFrame(frame));
        end = buffer.indexOf("\n\n");
      }
      if (until(events)) break;
    }
  } catch (error) {
    if ((error as Error).name !== "AbortError") throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: res.status, contentType, events };
}

function parseFrame(frame: string): SseEvent {
  let event = "message";
  const data: string[] = [];
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) event = ":";
    else if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  const text = data.join("\n");
  let parsed: unknown = text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {}
  return { event, data: parsed };
}

/** The command line running as a child process. */
export interface CliProcess {
  child: ChildProcess;
  /** The URL from the "listening on" line. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Runs `rapidai-jobs <args>` to completion (the checkout's, unless `entry` names another copy). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  entry: string = CLI,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `rapidai-jobs <args>` and resolves once it prints the URL it listens on. */
export function startCli(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the CLI did not start:\n${out}\n${err}`));
    }, 15_000);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /rapidai-jobs listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stdout: () => out, stderr: () => err, exited });
      }
    });
    child.stderr!.on("data", (d) => (err += d));
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the CLI exited (${code}) before listening:\n${out}\n${err}`));
    });
  });
}

/** Closes a queue, giving running jobs a moment. */
export async function closeQueue(queue: JobQueue): Promise<void> {
  await queue.close({ timeoutMs: 2000 });
}
