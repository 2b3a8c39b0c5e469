// The process side of the command line on Deno: `--workers` starts copies
// of this command as `deno run -A --unstable-net` (Deno 2.9 wants that
// flag for `Deno.serve({ reusePort })`), each serving with `reusePort`.
// Deno has no IPC channel for them: a worker writes its messages to
// stdout, one marked line each, and the parent passes all else through.
import type { CliHost } from "./_cli_host.ts";
import type { ChildHandle, ProcessHost } from "./_process_host.ts";
import type { WorkerMessage } from "./_worker_protocol.ts";
import type { WorkerSide } from "./_worker.ts";
import { denoWorkerArgs } from "./_deno_worker_args.ts";

// The few Deno APIs used here, declared so that no Deno types are needed.
interface DenoChild {
  pid: number;
  stdout: ReadableStream<Uint8Array>;
  status: Promise<{ code: number; signal: string | null }>;
  kill(signal: string): void;
}
interface DenoFile {
  writeSync(data: Uint8Array): number;
  seekSync(offset: number, whence: number): number;
}
interface DenoGlobal {
  version: { deno: string };
  args: string[];
  mainModule: string;
  build: { os: string };
  ppid: number;
  execPath(): string;
  cwd(): string;
  exit(code: number): never;
  env: { get(name: string): string | undefined; delete(name: string): void };
  permissions: {
    querySync(
      descriptor: { name: string; variable?: string },
    ): { state: string };
  };
  statSync(path: string): unknown;
  readFileSync(path: string): Uint8Array;
  dlopen(path: string, symbols: Record<string, unknown>): {
    symbols: Record<string, (...args: unknown[]) => unknown>;
  };
  UnsafePointer: { value(pointer: unknown): number | bigint };
  UnsafePointerView: {
    getArrayBuffer(pointer: unknown, byteLength: number): ArrayBuffer;
  };
  memoryUsage(): { rss: number };
  lstatSync(path: string): { isSocket: boolean | null };
  readTextFileSync(path: string): string;
  writeTextFileSync(path: string, text: string): void;
  kill(pid: number, signal: string): void;
  makeTempDirSync(options: { prefix: string; dir?: string }): string;
  removeSync(path: string, options: { recursive: boolean }): void;
  openSync(
    path: string,
    options: { write: boolean; create: boolean; truncate: boolean },
  ): DenoFile;
  watchFs(
    path: string,
    options: { recursive: boolean },
  ): AsyncIterable<{ paths: string[] }> & { close(): void };
  listen(options: { hostname: string; port: number }): {
    addr: { port: number };
    close(): void;
  };
  addSignalListener(signal: string, handler: () => void): void;
  stdout: { writeSync(data: Uint8Array): number };
  pid: number;
  Command: new (command: string, options: {
    args: string[];
    env?: Record<string, string>;
    stdin: "null";
    stdout: "piped" | "null";
    stderr: "inherit";
  }) => {
    spawn(): DenoChild;
    output(): Promise<{ code: number }>;
  };
}

const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
// Deno's Node-compatible `process` (a global since Deno 2) has cpuUsage(),
// which the Deno namespace lacks.
const nodeProcess = (globalThis as unknown as {
  process: { cpuUsage(): { user: number; system: number } };
}).process;

/** Starts a worker's message line on stdout (ASCII record separator). */
const MARK = "\x1ewsgi-worker ";
const encoder = new TextEncoder();

function writeAll(data: Uint8Array): void {
  for (let n = 0; n < data.length;) {
    n += Deno.stdout.writeSync(data.subarray(n));
  }
}

/** Reads a worker's stdout: messages to `message`, the rest to stdout. */
async function pump(
  stream: ReadableStream<Uint8Array>,
  message: (m: WorkerMessage) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  const line = (text: string): void => {
    const at = text.indexOf(MARK);
    if (at === -1) return writeAll(encoder.encode(text + "\n"));
    if (at > 0) writeAll(encoder.encode(text.slice(0, at)));
    try {
      message(JSON.parse(text.slice(at + MARK.length)));
    } catch {
      // Not one of ours after all.
    }
  };
  try {
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffer.indexOf("\n")) !== -1) {
        line(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch {
    // The worker is gone.
  }
  if (buffer) writeAll(encoder.encode(buffer));
}

/** Removes `path` if it is a unix socket (never a file or a folder). */
function removeSocket(path: string): void {
  try {
    if (Deno.lstatSync(path).isSocket) {
      Deno.removeSync(path, { recursive: false });
    }
  } catch {
    // Not there.
  }
}

/** The parent's own argv (Linux), to start workers with its flags. */
function cmdline(): string[] | null {
  try {
    const text = Deno.readTextFileSync("/proc/self/cmdline");
    return text.split("\0").slice(0, -1);
  } catch {
    return null;
  }
}

/** deno.json or deno.jsonc in the working directory or above, or null. */
function findConfig(): string | null {
  for (let dir = Deno.cwd(); dir !== "";) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      try {
        Deno.statSync(`${dir}/${name}`);
        return `${dir}/${name}`;
      } catch {
        // Not here.
      }
    }
    const up = dir.replace(/\/[^/]*$/, "");
    dir = up === dir ? "" : up;
  }
  return null;
}

const supervisorHost: ProcessHost = {
  inspector: "start",
  freePortSync() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    return port;
  },
  spawn(env, events, inspectPort): ChildHandle {
    // --timeout-stacks: Deno cannot open its inspector later, so it is
    // opened at start, on loopback (docs/observability.md).
    const inspect = inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [];
    const child = new Deno.Command(Deno.execPath(), {
      // This same command, as a worker; -A because the parent, which may
      // start processes (--allow-run), could grant itself anything anyway.
      args: denoWorkerArgs({
        cmdline: cmdline(),
        args: Deno.args,
        mainModule: Deno.mainModule,
        configFile: findConfig(),
        extraFlags: inspect,
      }),
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const read = pump(child.stdout, (m) => events.message(m));
    Promise.all([child.status, read]).then(([status]) =>
      events.exit(
        status.signal === null ? status.code : null,
        status.signal,
      )
    );
    return { pid: child.pid, kill: (signal) => child.kill(signal) };
  },
  onSignal(signal, handler) {
    try {
      Deno.addSignalListener(signal, handler);
    } catch {
      // Windows has only SIGINT (and SIGBREAK).
    }
  },
  readText(path) {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return null;
    }
  },
  readBytes(path) {
    try {
      return Deno.readFileSync(path);
    } catch {
      return null;
    }
  },
  makeTempDir() {
    // In memory where there is /dev/shm: a disk can stall the writes.
    let dir: string | undefined;
    try {
      Deno.statSync("/dev/shm");
      dir = "/dev/shm";
    } catch {
      // Not Linux: the system's temporary directory.
    }
    return Deno.makeTempDirSync({ prefix: "wsgi-", dir });
  },
  remove(path) {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Already gone.
    }
  },
  removeSocket,
  watch(dir, onChange) {
    const watcher = Deno.watchFs(dir, { recursive: true });
    (async () => {
      try {
        for await (const event of watcher) event.paths.forEach(onChange);
      } catch {
        // Closed.
      }
    })();
    return () => watcher.close();
  },
};

/**
 * A file mapped shared into memory through libc's mmap (Deno has no mmap
 * of its own; the workers run with -A, FFI included): the counters are in
 * the page cache as they are written, and stay there after a SIGKILL.
 */
function sharedMemory(path: string, bytes: number): Float64Array | null {
  if (Deno.build.os !== "linux") return null;
  const libc = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
    ftruncate: { parameters: ["i32", "i64"], result: "i32" },
    mmap: {
      parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
      result: "pointer",
    },
    close: { parameters: ["i32"], result: "i32" },
  }).symbols;
  // O_RDWR | O_CREAT | O_TRUNC, mode 0600.
  const fd = libc.open(encoder.encode(path + "\0"), 0o1102, 0o600) as number;
  if (fd < 0) return null;
  try {
    if (libc.ftruncate(fd, BigInt(bytes)) !== 0) return null;
    // PROT_READ | PROT_WRITE, MAP_SHARED.
    const at = libc.mmap(null, BigInt(bytes), 3, 1, fd, 0n);
    // MAP_FAILED is (void *) -1; null is no mapping either.
    if (
      at === null ||
      BigInt.asIntN(64, BigInt(Deno.UnsafePointer.value(at))) < 0n
    ) return null;
    const memory = new Float64Array(
      Deno.UnsafePointerView.getArrayBuffer(at, bytes),
    );
    return memory;
  } finally {
    libc.close(fd);
  }
}

function workerSide(): WorkerSide {
  const parent = Deno.ppid;
  // The pipe to the parent broke: it is gone (a dying process closes its
  // files before its children are given to another parent).
  let lost = false;
  return {
    reusePort: true,
    send(message) {
      try {
        writeAll(encoder.encode(`${MARK}${JSON.stringify(message)}\n`));
        return true;
      } catch {
        lost = true;
        return false;
      }
    },
    onTerm(handler) {
      Deno.addSignalListener("SIGINT", () => {});
      Deno.addSignalListener("SIGTERM", handler);
    },
    scoreboard(path) {
      const file = Deno.openSync(path, {
        write: true,
        create: true,
        truncate: true,
      });
      return (line) => {
        file.seekSync(0, 0);
        file.writeSync(encoder.encode(line));
      };
    },
    orphaned: () => lost || Deno.ppid !== parent,
    removeSocket,
    removeQuietly(path) {
      try {
        // Not recursive: a folder with files in it stays.
        Deno.removeSync(path, { recursive: false });
      } catch {
        // Gone, or not empty.
      }
    },
    usage() {
      const cpu = nodeProcess.cpuUsage();
      return {
        rss: Deno.memoryUsage().rss,
        cpu: (cpu.user + cpu.system) / 1e6,
      };
    },
    onDump: (handler) => Deno.addSignalListener("SIGUSR2", handler),
    sharedMemory,
  };
}

const denoHost: CliHost = {
  runtime: "deno",
  version: Deno.version.deno,
  args: () => Deno.args,
  cwd: () => Deno.cwd(),
  env(name) {
    // Asked only when granted: no permission prompt for a default.
    const granted =
      Deno.permissions.querySync({ name: "env", variable: name }).state ===
        "granted";
    return granted ? Deno.env.get(name) : undefined;
  },
  unsetEnv(name) {
    const granted =
      Deno.permissions.querySync({ name: "env", variable: name }).state ===
        "granted";
    if (granted) Deno.env.delete(name);
  },
  exists(path) {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  ppid: () => Deno.ppid,
  terminateSelf: () => Deno.kill(Deno.pid, "SIGTERM"),
  readFile: (path) => Deno.readTextFileSync(path),
  writeText: (path, text) => Deno.writeTextFileSync(path, text),
  removeFile(path) {
    try {
      Deno.removeSync(path, { recursive: false });
    } catch {
      // Already gone.
    }
  },
  removeSocket,
  cores: () => navigator.hardwareConcurrency,
  exit: (code) => Deno.exit(code),
  onSignal(handler) {
    Deno.addSignalListener("SIGINT", handler);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", handler);
  },
  onReopen(handler, signals) {
    if (Deno.build.os === "windows") return;
    // Deno (2.9.2+) also starts its inspector on SIGUSR1, listener or not
    // (docs/logging.md); SIGWINCH does not.
    for (const signal of signals) Deno.addSignalListener(signal, handler);
  },
  freePort(host) {
    const listener = Deno.listen({ hostname: host, port: 0 });
    const port = listener.addr.port;
    listener.close();
    return Promise.resolve(port);
  },
  cannotSupervise() {
    const run = Deno.permissions.querySync({ name: "run" }).state;
    return run === "granted" ? null : "--workers on Deno starts " +
      "`deno run -A --unstable-net` workers: run this command with -A";
  },
  // Deno.Command's children inherit the sockets systemd passed as they are.
  supervisor: () => Promise.resolve(supervisorHost),
  pid: () => Deno.pid,
  async notify(fields) {
    // No unix datagram socket without --unstable-net: systemd-notify sends.
    const { code } = await new Deno.Command("systemd-notify", {
      args: fields,
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (code !== 0) throw new Error(`systemd-notify exited with ${code}`);
  },
  // Deno's clocks count from the process's start: CLOCK_BOOTTIME, from
  // /proc/uptime, stands in (never earlier than CLOCK_MONOTONIC).
  monotonicUsec: () =>
    Math.round(
      Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]) * 1e6,
    ),
  worker: () => Promise.resolve(workerSide()),
};

/** The command line's view of Deno. */
export function cliHost(): Promise<CliHost> {
  return Promise.resolve(denoHost);
}
