import { type ChildProcess, fork } from "node:child_process";
import type { SideFigures, SideReply, SideRequest } from "./latency-side.js";

const sideUrl = new URL("./latency-side.js", import.meta.url);

/**
 * One engine's process (bench/latency-side.ts) for the head-to-head latency
 * cases: asked one thing at a time, idle in between.
 */
export class Side {
  readonly #child: ChildProcess;
  #waiting: ((reply: SideReply) => void) | undefined;
  #exited: string | undefined;

  private constructor(engine: string, threads: number, redisUrl: string | undefined) {
    this.#child = fork(sideUrl, [engine, String(threads), redisUrl ?? ""], {
      execArgv: process.execArgv,
    });
    this.#child.on("message", (reply: SideReply) => this.#answer(reply));
    this.#child.on("exit", (code, signal) => {
      this.#exited = `the ${engine} process exited (${signal ?? code})`;
      this.#answer({ kind: "error", message: this.#exited });
    });
  }

  static async open(engine: string, threads: number, redisUrl: string | undefined): Promise<Side> {
    const side = new Side(engine, threads, redisUrl);
    await side.#next();
    return side;
  }

  /** Runs one request in the engine's process: its figures. */
  async ask(request: SideRequest): Promise<SideFigures> {
    if (this.#exited !== undefined) throw new Error(this.#exited);
    const reply = this.#next();
    this.#child.send(request);
    const r = await reply;
    if (r.kind !== "done") throw new Error("the engine's process answered out of turn");
    return r.figures;
  }

  #next(): Promise<SideReply> {
    return new Promise((resolve, reject) => {
      this.#waiting = (reply) =>
        reply.kind === "error" ? reject(new Error(reply.message)) : resolve(reply);
    });
  }

  #answer(reply: SideReply): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(reply);
  }

  /** Hangs up: the engine closes and its process ends. */
  async close(): Promise<void> {
    if (this.#exited !== undefined) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.disconnect();
    await exited;
  }
}

/**
 * Opens one process per engine into `into`, in order; those opened stay
 * there for the caller to close even when a later one fails.
 */
export async function openSides(
  into: Side[],
  engines: readonly { engine: string }[],
  threads: number,
  redisUrl: string | undefined,
): Promise<void> {
  for (const { engine } of engines) into.push(await Side.open(engine, threads, redisUrl));
}

/**
 * The order of the two engines in a round: each round starts with the
 * other one, so neither always runs right after the other's settle pause.
 */
export function turnOrder(round: number): readonly [number, number] {
  return round % 2 === 0 ? [0, 1] : [1, 0];
}
