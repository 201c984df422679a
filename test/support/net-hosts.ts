/**
 * Hosts for a test, made of Linux network namespaces: each host is a
 * namespace with its own loopback, one address on a private /24 and its own
 * hostname (a UTS namespace per process started on it), and every host
 * reaches every other through a bridge in one more namespace, the switch.
 * Nothing is added to the machine's own network: the addresses exist only
 * inside the namespaces, so processes on different hosts talk over a real
 * (virtual) Ethernet link and not over 127.0.0.1.
 *
 * Namespace names carry the pid of the process that made them
 * (`rjh-<pid>-<n>-<host>`), so parallel runs never collide, and a run
 * deletes what a dead run left behind. Everything is removed by
 * `teardown()`, and on process exit if a test never got there.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { requirement } from "./requirement.js";

const PREFIX = "rjh-";

export interface NetHost {
  /** The name the test gave it; also its hostname. */
  readonly name: string;
  /** The network namespace it is. */
  readonly ns: string;
  /** Its address on the shared /24. */
  readonly address: string;
}

export interface NetHosts {
  readonly hosts: readonly NetHost[];
  /** The subnet, e.g. `10.231.7.0/24`. */
  readonly subnet: string;
  host(name: string): NetHost;
  /**
   * The command that runs `file args…` on a host, with the host's name as
   * its hostname: `ip netns exec` and `unshare --uts` both exec in place,
   * so the pid of the spawned process is the pid of the program.
   */
  command(host: NetHost, file: string, args: readonly string[]): { file: string; args: string[] };
  /** Spawns `file args…` on a host (see {@link NetHosts.command}). */
  spawn(host: NetHost, file: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Kills every process on the hosts and deletes the namespaces. Idempotent. */
  teardown(): void;
}

const ipRequirement = requirement({
  envVar: "IP_BIN",
  names: ["ip"],
  last: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"],
  message: "`ip` (iproute2) not found: the multi-host tests are SKIPPED",
});

let probed: string | null | undefined;
let warned = false;

/**
 * Undefined when this process can make network namespaces; else why not
 * (printed once, loudly). Not root: a skip even under CI, which cannot
 * grant it. Root without `ip`, or root where making one fails: a skip, but
 * under env CI an error, since CI (`.ci/run`) installs iproute2.
 */
export function netHostsMissing(): string | undefined {
  if (probed === undefined) probed = probe() ?? null;
  if (probed === null) return undefined;
  if (!warned) {
    warned = true;
    console.warn(`\n!!!!! ${probed} !!!!!\n`);
  }
  return probed;
}

function probe(): string | undefined {
  if (process.platform !== "linux")
    return "not Linux: no network namespaces, the multi-host tests are SKIPPED";
  if (process.getuid?.() !== 0)
    return "not root: cannot make network namespaces, the multi-host tests are SKIPPED";
  const reason = ipRequirement.missing(); // throws under CI
  if (reason) return reason;
  const ns = `${PREFIX}${process.pid}-probe`;
  try {
    ip(["netns", "add", ns]);
    ip(["-n", ns, "link", "add", "br0", "type", "bridge"]);
    execFileSync(ipBin(), ["netns", "exec", ns, "unshare", "--uts", "--", "true"], {
      stdio: "pipe",
    });
  } catch (error) {
    const message = `cannot make network namespaces (${firstLine(error)}): the multi-host tests are SKIPPED`;
    if (process.env.CI) throw new Error(`${message.split(":")[0]}, and CI is set: failing`);
    return message;
  } finally {
    tryIp(["netns", "del", ns]);
  }
  return undefined;
}

/** The `ip` binary the hosts are made with. */
export function ipBin(): string {
  return ipRequirement.binary() ?? "ip";
}

function ip(args: string[]): string {
  return execFileSync(ipBin(), args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
}

function tryIp(args: string[]): string {
  try {
    return ip(args);
  } catch {
    return "";
  }
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: Buffer; message?: string };
  return (e.stderr?.toString() || e.message || String(error)).trim().split("\n")[0] ?? "";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function namespaces(): string[] {
  // Lines are "name" or "name (id: 3)".
  return tryIp(["netns", "list"])
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((n) => n.startsWith(PREFIX));
}

/** Kills what runs in a namespace, then deletes it (its veth ends go with it). */
function destroy(ns: string): void {
  for (const pid of tryIp(["netns", "pids", ns]).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  tryIp(["netns", "del", ns]);
}

/**
 * Deletes namespaces of runs whose process is dead, and any carrying this
 * process's pid that this process did not make (a dead run had the pid).
 */
function removeStale(mine: ReadonlySet<string>): void {
  for (const ns of namespaces()) {
    const pid = Number(/^rjh-(\d+)-/.exec(ns)?.[1]);
    if (!Number.isInteger(pid)) continue;
    if (pid === process.pid ? !mine.has(ns) : !alive(pid)) destroy(ns);
  }
}

/** IPv4 networks (as [base, mask]) routed in this namespace: the /24 must not overlap them. */
function usedNetworks(): [number, number][] {
  const out: [number, number][] = [];
  for (const line of tryIp(["-4", "route", "show", "table", "all"]).split("\n")) {
    const m = /^(?:\S+\s+)?(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?\s/.exec(line);
    if (!m) continue;
    const bits = m[2] === undefined ? 32 : Number(m[2]);
    if (bits === 0) continue; // the default route overlaps everything
    const mask = bits === 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
    out.push([(toInt(m[1]!) & mask) >>> 0, mask]);
  }
  return out;
}

function toInt(a: string): number {
  return a.split(".").reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}

function pickSubnet(seq: number): string {
  const used = usedNetworks();
  const start = (process.pid * 7 + seq * 131) % (64 * 256);
  for (let i = 0; i < 64 * 256; i++) {
    const k = (start + i) % (64 * 256);
    const base = toInt(`10.${192 + (k >> 8)}.${k & 255}.0`);
    const clash = used.some(([net, mask]) => {
      const m = (mask & 0xffffff00) >>> 0; // the wider of the two masks
      return (net & m) >>> 0 === (base & m) >>> 0;
    });
    if (!clash) return `10.${192 + (k >> 8)}.${k & 255}`;
  }
  throw new Error("no free 10.x.y.0/24 for the test hosts");
}

let made = 0;
const live = new Set<string>();
process.on("exit", () => {
  for (const ns of live) destroy(ns);
});

/**
 * Makes one host per name (at most 250), all on one /24 through a bridge.
 * Call {@link netHostsMissing} first.
 */
export function createNetHosts(names: readonly string[]): NetHosts {
  if (names.length === 0 || names.length > 250) throw new RangeError("1 to 250 hosts");
  removeStale(live);
  const seq = made++;
  const base = `${PREFIX}${process.pid}-${seq}-`;
  const sw = `${base}sw`;
  const net = pickSubnet(seq);
  const hosts: NetHost[] = names.map((name, i) => ({
    name,
    ns: `${base}${name}`.slice(0, 200),
    address: `${net}.${i + 1}`,
  }));
  const owned = [sw, ...hosts.map((h) => h.ns)];
  let down = false;
  const teardown = () => {
    if (down) return;
    down = true;
    for (const ns of owned) {
      destroy(ns);
      live.delete(ns);
    }
  };
  try {
    for (const ns of owned) {
      live.add(ns);
      ip(["netns", "add", ns]);
      ip(["-n", ns, "link", "set", "lo", "up"]);
    }
    ip(["-n", sw, "link", "add", "br0", "type", "bridge"]);
    ip(["-n", sw, "link", "set", "br0", "up"]);
    hosts.forEach((h, i) => {
      // One veth pair per host: "eth0" on the host, "p<i>" on the switch's bridge.
      ip(["-n", sw, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0", "netns", h.ns]);
      ip(["-n", sw, "link", "set", `p${i}`, "master", "br0", "up"]);
      ip(["-n", h.ns, "addr", "add", `${h.address}/24`, "dev", "eth0"]);
      ip(["-n", h.ns, "link", "set", "eth0", "up"]);
    });
  } catch (error) {
    teardown();
    throw new Error(`could not make the test hosts: ${firstLine(error)}`);
  }
  const command: NetHosts["command"] = (host, file, args) => ({
    file: ipBin(),
    args: [
      "netns",
      "exec",
      host.ns,
      "unshare",
      "--uts",
      "--",
      "sh",
      "-c",
      // The UTS namespace is this process's alone: its hostname is the host's name.
      'printf %s "$0" > /proc/sys/kernel/hostname && exec "$@"',
      host.name,
      file,
      ...args,
    ],
  });
  return {
    hosts,
    subnet: `${net}.0/24`,
    host(name) {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`no test host named ${name}`);
      return h;
    },
    command,
    spawn(host, file, args, options = {}) {
      const c = command(host, file, args);
      return spawn(c.file, c.args, options);
    },
    teardown,
  };
}
