// The process side of the command line on Node: `--workers` runs on
// node:cluster (one socket in the parent, handed round-robin to the
// workers: it works on Node 20, where `reusePort` does not, and retiring a
// worker drops no queued connection). The file helpers are shared with Bun,
// which implements these node: modules too.
import type { CliHost } from "./_cli_host.ts";
import type {
  ChildHandle,
  ProcessHost,
  SupervisorSignal,
} from "./_process_host.ts";
import type { WorkerMessage } from "./_worker_protocol.ts";
import type { WorkerSide } from "./_worker.ts";
import { type WatchFs, watchTree } from "./_watch_node.ts";

// The few Node APIs used here, declared so that no Node types are needed.
interface NodeProcess {
  argv: string[];
  env: Record<string, string | undefined>;
  pid: number;
  ppid: number;
  platform: string;
  versions: { node: string };
  cwd(): string;
  hrtime: { bigint(): bigint };
  exit(code: number): never;
  on(signal: string, handler: (...args: unknown[]) => void): void;
  send?(message: unknown): boolean;
  connected?: boolean;
  kill(pid: number, signal: string): void;
  memoryUsage(): { rss: number };
  cpuUsage(): { user: number; system: number };
}
interface NodeFs {
  existsSync(path: string): boolean;
  lstatSync(path: string): { isSocket(): boolean };
  unlinkSync(path: string): void;
  rmdirSync(path: string): void;
  readFileSync(path: string, encoding: "utf8"): string;
  readFileSync(path: string): Uint8Array;
  writeFileSync(path: string, data: Uint8Array | string): void;
  mkdtempSync(prefix: string): string;
  rmSync(path: string, options: { recursive: boolean; force: boolean }): void;
  openSync(path: string, flags: string): number;
  writeSync(fd: number, text: string, position: number): number;
  writeSync(
    fd: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number;
}
interface NodeOs {
  tmpdir(): string;
  cpus(): unknown[];
  availableParallelism?(): number;
}
interface NodeNet {
  createServer(): {
    listen(port: number, host: string, callback: () => void): void;
    once(event: "error", listener: (error: Error) => void): void;
    address(): { port: number } | null;
    close(): void;
  };
}
interface ChildProcessModule {
  spawn(
    command: string,
    args: string[],
    options: { stdio: ["ignore", "ignore", "inherit"] },
  ): {
    once(event: "error", listener: (error: Error) => void): void;
    once(event: "exit", listener: (code: number | null) => void): void;
  };
}
interface ClusterWorker {
  process: { pid: number; kill(signal: string): void };
  on(event: "message", listener: (message: WorkerMessage) => void): void;
  on(
    event: "exit",
    listener: (code: number | null, signal: string | null) => void,
  ): void;
}
interface Cluster {
  isWorker: boolean;
  schedulingPolicy: number;
  SCHED_NONE: number;
  fork(env: Record<string, string>): ClusterWorker;
}

const proc = (globalThis as unknown as { process: NodeProcess }).process;

// A variable specifier keeps type checkers from resolving node: modules.
async function nodeModule<T>(name: string): Promise<T> {
  const mod = await import(name) as { default?: T };
  return (mod.default ?? mod) as T;
}
let fs!: NodeFs & WatchFs;

/** Removes `path` if it is a unix socket (never a file or a folder). */
function removeSocket(path: string): void {
  try {
    if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // Not there.
  }
}
let os!: NodeOs;
let net!: NodeNet;
/** Loads node:fs, node:os and node:net (no top-level await: CommonJS). */
export async function loadNodeModules(): Promise<void> {
  [fs, os, net] = await Promise.all([
    nodeModule<NodeFs & WatchFs>("node:fs"),
    nodeModule<NodeOs>("node:os"),
    nodeModule<NodeNet>("node:net"),
  ]);
}

const SIGNALS_ON_WINDOWS = new Set(["SIGINT"]);

/** The parts of a ProcessHost that node:fs provides (Node and Bun). */
export function nodeFiles(): Omit<ProcessHost, "spawn"> {
  return {
    onSignal(signal: SupervisorSignal, handler: () => void): void {
      if (proc.platform === "win32" && !SIGNALS_ON_WINDOWS.has(signal)) return;
      proc.on(signal, () => handler());
    },
    readText(path) {
      try {
        return fs.readFileSync(path, "utf8");
      } catch {
        return null;
      }
    },
    readBytes(path) {
      try {
        return fs.readFileSync(path);
      } catch {
        return null;
      }
    },
    // In memory where there is /dev/shm: a disk can stall the writes.
    makeTempDir: () =>
      fs.mkdtempSync(
        `${fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir()}/wsgi-`,
      ),
    remove: (path) => fs.rmSync(path, { recursive: true, force: true }),
    removeSocket,
    watch: (dir, onChange) => watchTree(fs, dir, onChange),
  };
}

/** Memory and CPU time through Node's `process` (Deno has it too). */
function nodeUsage(
  p: Pick<NodeProcess, "memoryUsage" | "cpuUsage">,
): { rss: number; cpu: number } {
  const cpu = p.cpuUsage();
  return { rss: p.memoryUsage().rss, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** The worker's side, but for `send` (Node's and Bun's IPC `process.send`). */
export function nodeWorkerSide(reusePort: boolean): WorkerSide {
  const parent = proc.ppid;
  return {
    reusePort,
    send(message) {
      // send() answers false also when its queue is long: the channel's
      // state says whether the parent is there.
      try {
        proc.send?.(message);
      } catch {
        return false;
      }
      return proc.connected !== false;
    },
    onTerm(handler) {
      proc.on("SIGINT", () => {});
      proc.on("SIGTERM", () => handler());
      // The parent's IPC channel closing means the parent is gone.
      proc.on("disconnect", () => handler());
    },
    atExit: (handler) => void proc.on("exit", () => handler()),
    scoreboard(path) {
      const fd = fs.openSync(path, "w");
      return (line) => void fs.writeSync(fd, line, 0);
    },
    // No shared memory on Node: the counters are written to the file with
    // one pwrite, in the turn that answered requests (_worker_report.ts).
    countersFile(path, bytes) {
      const memory = new Float64Array(bytes / 8);
      const view = new Uint8Array(memory.buffer);
      const fd = fs.openSync(path, "w");
      const flush = (): void => void fs.writeSync(fd, view, 0, bytes, 0);
      flush();
      return { memory, flush };
    },
    // The IPC channel closes as the parent dies, a moment before its
    // children are given to another parent.
    orphaned: () => proc.connected === false || proc.ppid !== parent,
    removeSocket,
    removeQuietly(path) {
      try {
        fs.unlinkSync(path);
      } catch {
        // Gone, or a folder.
        try {
          fs.rmdirSync(path);
        } catch {
          // Gone, or not empty.
        }
      }
    },
    usage: () => nodeUsage(proc),
    onDump: (handler) => void proc.on("SIGUSR2", () => handler()),
  };
}

/** Creates (or empties) a file of `bytes` zero bytes. */
export function zeroFile(path: string, bytes: number): void {
  fs.writeFileSync(path, new Uint8Array(bytes));
}

/** A free TCP port on `host`. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const port = server.address()!.port;
      server.close();
      resolve(port);
    });
  });
}

/** The CLI's host facilities common to Node and Bun. */
export function nodeCliHost(
  runtime: "node" | "bun",
  version: string,
): Omit<CliHost, "supervisor" | "worker" | "cannotSupervise"> {
  return {
    runtime,
    version,
    args: () => proc.argv.slice(2),
    cwd: () => proc.cwd(),
    env: (name) => proc.env[name],
    unsetEnv: (name) => void delete proc.env[name],
    exists: (path) => fs.existsSync(path),
    ppid: () => proc.ppid,
    terminateSelf: () => proc.kill(proc.pid, "SIGTERM"),
    readFile: (path) => fs.readFileSync(path, "utf8"),
    writeText: (path, text) => fs.writeFileSync(path, text),
    removeFile: (path) => fs.rmSync(path, { recursive: false, force: true }),
    removeSocket,
    cores: () => os.availableParallelism?.() ?? os.cpus().length,
    exit: (code) => proc.exit(code),
    pid: () => proc.pid,
    notify: systemdNotify,
    monotonicUsec: () => monotonicUsec(runtime),
    onSignal(handler) {
      proc.on("SIGINT", handler);
      proc.on("SIGTERM", handler);
    },
    onReopen(handler, signals) {
      if (proc.platform === "win32") return;
      // A SIGUSR1 listener also keeps Node from starting its inspector.
      for (const signal of signals) proc.on(signal, () => handler());
    },
    freePort,
  };
}

/** Runs `systemd-notify FIELDS...` (it reads $NOTIFY_SOCKET itself). */
async function systemdNotify(fields: string[]): Promise<void> {
  const cp = await nodeModule<ChildProcessModule>("node:child_process");
  await new Promise<void>((resolve, reject) => {
    const child = cp.spawn("systemd-notify", fields, {
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.once("error", reject);
    child.once(
      "exit",
      (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`systemd-notify exited with ${code}`)),
    );
  });
}

/**
 * CLOCK_MONOTONIC in µs: Node's hrtime is it (libuv's uv_hrtime); Bun's
 * counts from the process's start, so there CLOCK_BOOTTIME, from
 * /proc/uptime, stands in (never earlier than CLOCK_MONOTONIC, which is
 * what systemd compares it with).
 */
function monotonicUsec(runtime: "node" | "bun"): number {
  if (runtime === "node") return Number(proc.hrtime.bigint() / 1000n);
  const uptime = fs.readFileSync("/proc/uptime", "utf8").split(" ")[0];
  return Math.round(Number(uptime) * 1e6);
}

/** The command line's view of Node. */
export async function cliHost(): Promise<CliHost> {
  await loadNodeModules();
  return nodeHost;
}

const nodeHost: CliHost = {
  ...nodeCliHost("node", proc.versions?.node ?? ""),
  cannotSupervise: () => null,
  async supervisor() {
    const cluster = await nodeModule<Cluster>("node:cluster");
    // The workers accept from the one shared socket themselves (not the
    // parent's round-robin): a stuck worker takes no new connection, a
    // retiring one leaves its queue to the others, and a connection per
    // request costs a third of round-robin's (serving.md §1.4).
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    return {
      ...nodeFiles(),
      inspector: "signal",
      spawn(env, events): ChildHandle {
        // cluster.fork() runs this same script, with its arguments and
        // Node's flags, as a worker.
        const worker = cluster.fork(env);
        worker.on("message", (m) => events.message(m));
        worker.on("exit", (code, signal) => events.exit(code, signal));
        return {
          pid: worker.process.pid,
          kill: (signal) => worker.process.kill(signal),
        };
      },
    };
  },
  worker: () =>
    Promise.resolve({
      ...nodeWorkerSide(false),
      // Node's SIGUSR1 opens the inspector on process.debugPort, even while
      // JavaScript runs: a free port now, for a timeout's stack later.
      async inspectable(note: (line: string) => void) {
        try {
          const port = await freePort("127.0.0.1");
          (proc as { debugPort?: number }).debugPort = port;
          note(`${port}\n`);
        } catch {
          // No stack for this worker.
        }
      },
    }),
};
