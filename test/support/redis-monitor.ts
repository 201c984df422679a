import { connect, type Socket } from "node:net";

/**
 * MONITOR over a plain socket: each line the server sends after `+OK` is one
 * command, `+<time> [<db> <addr>] "cmd" "arg"…`. (A client library's monitor
 * mode can mistake a line that arrives before its `+OK` for a reply, and
 * then reconnects for ever; a socket that is destroyed stays closed.)
 */
export function monitorCommands(
  port: number,
  host: string,
  onCommand: (args: string[]) => void,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let buffered = "";
    let started = false;
    socket.setEncoding("latin1");
    socket.once("error", reject);
    socket.on("connect", () => socket.write("MONITOR\r\n"));
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf("\r\n");
      while (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf("\r\n");
        if (!started) {
          if (line !== "+OK") {
            socket.destroy();
            reject(new Error(`MONITOR on ${port} answered ${line}`));
            return;
          }
          started = true;
          socket.off("error", reject);
          socket.on("error", () => {});
          resolve(socket);
          continue;
        }
        const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
          m[1]!.replace(/\\(.)/g, "$1"),
        );
        if (args.length > 0) onCommand(args);
      }
    });
  });
}
