import type { LogMessage } from "./protocol.js";

/** Longest log line kept, in characters; a longer one is cut, with a marker saying how much. */
export const LOG_LINE_MAX_CHARS = 8192;
/** Lines buffered on a thread before they are sent at once. */
export const LOG_FLUSH_LINES = 64;
/** Longest a buffered line waits on its thread while the job runs, in ms. */
export const LOG_FLUSH_MS = 100;

/** A log line as kept: a string, cut to {@link LOG_LINE_MAX_CHARS}. */
export function boundLine(text: unknown): string {
  const line = typeof text === "string" ? text : String(text);
  if (line.length <= LOG_LINE_MAX_CHARS) return line;
  return `${line.slice(0, LOG_LINE_MAX_CHARS)}… [${line.length - LOG_LINE_MAX_CHARS} characters cut]`;
}

/**
 * `currentJob().log()` on a worker thread: lines wait here and go to the main
 * thread in batches on the thread's channel (one message per job per batch),
 * so logging costs no round trip per line. A batch goes when it holds
 * {@link LOG_FLUSH_LINES} lines, after {@link LOG_FLUSH_MS}, and always
 * before the job's answer, so a job's lines arrive before its end.
 */
export class LogBuffer {
  #pending = new Map<number, LogMessage>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly post: (message: LogMessage) => void) {}

  add(slot: number, jobId: string, text: unknown): void {
    let message = this.#pending.get(slot);
    if (message !== undefined && message.jobId !== jobId) {
      this.flush();
      message = undefined;
    }
    if (message === undefined) {
      message = { kind: "log", slot, jobId, lines: [] };
      this.#pending.set(slot, message);
    }
    message.lines.push(boundLine(text));
    if (++this.#count >= LOG_FLUSH_LINES) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), LOG_FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Sends every buffered line now. */
  flush(): void {
    if (this.#count === 0) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const messages = [...this.#pending.values()];
    this.#pending.clear();
    this.#count = 0;
    for (const message of messages) this.post(message);
  }
}
