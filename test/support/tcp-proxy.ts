/**
 * A TCP proxy on a free loopback port that forwards to another port (a
 * test's redis-server), and can cut the traffic as a network partition
 * would: connections stay open but nothing gets through, so clients hang
 * until their own timeouts fire. `restore()` lets the traffic flow again.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** Whether traffic is cut right now. */
  readonly cutOff: boolean;
  /** Connections accepted so far. */
  readonly accepted: number;
  /**
   * Stops all traffic. `hold` (the default, the realistic case) keeps every
   * connection open and holds its bytes, as a partition that later heals;
   * new connections are accepted but go nowhere until `restore()`. `drop`
   * also destroys every open connection and refuses none, so clients see
   * their sockets close and reconnect into the held state.
   */
  cut(mode?: "hold" | "drop"): void;
  /** Lets traffic flow again: held bytes are delivered, held connections reach the target. */
  restore(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

/** Starts a proxy from a free loopback port to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let cutOff = false;
  let accepted = 0;

  const destroy = (p: Pair) => {
    pairs.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  };

  // Connects a pair to the target; bytes flow only while not cut.
  const connect = (p: Pair) => {
    const up = createConnection({ host: "127.0.0.1", port: targetPort });
    p.upstream = up;
    up.on("error", () => destroy(p));
    up.on("close", () => destroy(p));
    up.on("data", (d) => {
      if (!p.client.write(d)) up.pause();
    });
    p.client.on("data", (d) => {
      if (!up.write(d)) p.client.pause();
    });
    up.on("drain", () => {
      if (!cutOff) p.client.resume();
    });
    p.client.on("drain", () => {
      if (!cutOff) up.resume();
    });
    if (cutOff) up.pause();
    else p.client.resume();
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    accepted++;
    const p: Pair = { client, upstream: undefined };
    pairs.add(p);
    client.on("error", () => destroy(p));
    client.on("close", () => destroy(p));
    // While cut, a new connection is held: accepted, but not yet forwarded.
    if (!cutOff) connect(p);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;

  return {
    port,
    get cutOff() {
      return cutOff;
    },
    get accepted() {
      return accepted;
    },
    cut(mode = "hold") {
      cutOff = true;
      for (const p of pairs) {
        if (mode === "drop") {
          destroy(p);
          continue;
        }
        // Paused sockets read nothing: the bytes wait in the kernel buffers.
        p.client.pause();
        p.upstream?.pause();
      }
    },
    restore() {
      cutOff = false;
      for (const p of pairs) {
        if (p.upstream === undefined) connect(p);
        else {
          p.client.resume();
          p.upstream.resume();
        }
      }
    },
    close() {
      for (const p of pairs) destroy(p);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
