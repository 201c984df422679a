/**
 * A stand-in Sentinel that names whatever master a test tells it to: it
 * answers `SENTINEL GET-MASTER-ADDR-BY-NAME` with `point(port)`'s port,
 * `SENTINEL SENTINELS` with none, and accepts `SUBSCRIBE` (ioredis's
 * failover watch). With it a test can make the client's Sentinel name a
 * replica, or keep naming a node after it was demoted, which real
 * Sentinels only do for a moment.
 */
import { createServer, type Server, type Socket } from "node:net";

export interface FakeSentinel {
  readonly port: number;
  /** Name the node on `port` as the master from now on. */
  point(port: number): void;
  /** How many times a client asked for the master's address. */
  readonly asked: number;
  close(): Promise<void>;
}

/** Parses whole RESP arrays of bulk strings off the front of `buf`. */
function parse(buf: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    if (buf[at] !== "*") break;
    const head = buf.indexOf("\r\n", at);
    if (head < 0) break;
    const n = Number(buf.slice(at + 1, head));
    let p = head + 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const lenEnd = buf.indexOf("\r\n", p);
      if (lenEnd < 0 || buf[p] !== "$") return { commands, rest: buf.slice(at) };
      const len = Number(buf.slice(p + 1, lenEnd));
      if (buf.length < lenEnd + 2 + len + 2) return { commands, rest: buf.slice(at) };
      args.push(buf.slice(lenEnd + 2, lenEnd + 2 + len));
      p = lenEnd + 2 + len + 2;
    }
    commands.push(args);
    at = p;
  }
  return { commands, rest: buf.slice(at) };
}

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

export async function startFakeSentinel(masterPort: number): Promise<FakeSentinel> {
  let master = masterPort;
  let asked = 0;
  const sockets = new Set<Socket>();
  const reply = (args: string[]): string => {
    const [cmd = "", sub = ""] = args.map((a) => a.toLowerCase());
    if (cmd === "sentinel" && sub === "get-master-addr-by-name") {
      asked++;
      return `*2\r\n${bulk("127.0.0.1")}${bulk(String(master))}`;
    }
    if (cmd === "sentinel") return "*0\r\n";
    if (cmd === "subscribe") return `*3\r\n${bulk("subscribe")}${bulk(args[1] ?? "")}:1\r\n`;
    if (cmd === "ping") return "+PONG\r\n";
    return "+OK\r\n";
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = "";
    socket.on("data", (d) => {
      const { commands, rest } = parse(buf + d.toString("latin1"));
      buf = rest;
      for (const c of commands) socket.write(reply(c));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    point(p) {
      master = p;
    },
    get asked() {
      return asked;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
