// Benchmarks makeServer() against what a user would use instead, with wrk.
//
//   deno run -A scripts/bench.ts [--quick] [--write] [--no-pin]
//                                [--runtime deno,bun,node] [--no-python]
//                                [--rounds N] [--duration S] [--connections C]
//                                [--only compare,detail,workers]
//   deno run -A scripts/bench.ts --python-app   (scripts/_bench_python.ts)
//   deno run -A scripts/bench.ts --metrics [--rounds N] [--duration S]
//   deno run -A scripts/bench.ts --toolkit ...   (scripts/_bench_toolkit.ts)
//   deno run -A scripts/bench.ts --deploy   (scripts/_bench_deploy.ts)
//
// (`npm run bench` runs it.) For each runtime (deno, bun and node 24, all
// from node_modules/.bin) it starts one child process per server
// (scripts/_bench_server.ts): the runtime's own server ("raw"), Hono and
// srvx (the JS peers, dev dependencies of the benchmark only), makeServer()
// with its default access log (stderr to a file) and with `log: false`,
// and the detail cases (the floor, a 1 MiB stream, a 100 MiB file); and,
// once, CPython's wsgiref, gunicorn (sync, one worker) and waitress serving
// the same tutorial app (scripts/bench_app.py; Debian's python3-gunicorn
// and python3-waitress: a row whose server is missing is skipped with a
// note). ONE load generator, wrk, loads them, interleaved within each group:
// raw, hono, srvx, wsgi..., raw, hono...
// Each run is preceded by a warm-up run; the server's CPU time (utime +
// stime from /proc/<pid>/stat, its child processes included: gunicorn's
// worker) is read around the measured run and divided by the requests wrk
// completed. On a 2-core machine the load generator often saturates before
// the server does, so CPU per request is the figure the targets are about;
// req/s is shown too. Every figure is also given as a ratio to the raw
// server measured in the same round (the median over rounds of the
// per-round ratio). Every server's stderr goes to a file (emptied before
// each run), as a deployed server's would.
//
// Servers run on CPU 1 and wrk on CPU 0 (taskset), so that neither steals
// the other's core; --no-pin turns that off.
//
// The workers rows run the command line (mod.ts) on
// scripts/_bench_workers_app.ts: the supervisor's own cost, as CPU per
// request of the hello app served by one plain process (`wsgi app`, that is
// makeServer) against one supervised worker (`wsgi --workers 1 app`), the
// parent's CPU and its worker's summed, pinned like the rest; and 1 against
// 2 workers on an app that spends about 200 µs of CPU per request, in req/s
// (unpinned, server and wrk alike: two workers need both cores).
//
// --only picks the kinds of rows (compare: the comparison and CPython;
// detail: the detail cases; workers: the rows above), for a short look at
// one of them; it does not go with --write.
// --quick: the comparison and the workers rows (no detail cases), 1 round
// of 2 s: a few minutes. The default is 5 rounds of 3 s (about 20 minutes): on a shared
// machine, more and shorter rounds give a steadier median. --write rewrites
// BENCHMARKS.md (then formatted with deno fmt) and benchmarks.svg, the
// chart of requests per second the README shows; without it, the chart goes
// to a temporary file whose path is printed.
import { portLine } from "./_port_line.ts";
import { benchLogs } from "./_bench_logs.ts";
// --logs: only the access-log formats' section (scripts/_bench_logs.ts).
if (Deno.args.includes("--logs")) {
  const value = (flag: string, fallback: string): string => {
    const at = Deno.args.indexOf(flag);
    return at === -1 ? fallback : Deno.args[at + 1];
  };
  console.log(
    await benchLogs({
      runtimes: value("--runtime", "deno,bun,node").split(","),
      rounds: Number(value("--rounds", "5")),
      duration: Number(value("--duration", "3")),
    }),
  );
  Deno.exit(0);
}
const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const SERVER = `${ROOT}scripts/_bench_server.ts`;
const PY_APP = `${ROOT}scripts/bench_app.py`;
const CLI = `${ROOT}mod.ts`;
const WORKERS_APP = `${ROOT}scripts/_bench_workers_app.ts`;
const CHART = `${ROOT}benchmarks.svg`;
const RUNTIMES = ["deno", "bun", "node"] as const;
type Runtime = typeof RUNTIMES[number];
/** What runs a server: a JS runtime, or CPython for the Python rows. */
type Engine = Runtime | "python";
type Mode =
  | "raw"
  | "raw-bytes"
  | "raw-bytes-log"
  | "raw-wsgi"
  | "hono"
  | "hono-log"
  | "srvx"
  | "wsgi"
  | "wsgi-log"
  | "raw-stream"
  | "wsgi-stream"
  | "wsgi-file"
  | "wsgi-file-copy"
  | "wsgiref"
  | "gunicorn"
  | "waitress"
  | "cli-hello"
  | "cli-hello-w1"
  | "cli-cpu"
  | "cli-cpu-w2";
type Workload = "hello" | "stream" | "file" | "cpu";
type Kind = "compare" | "detail" | "workers";
const KINDS: Kind[] = ["compare", "detail", "workers"];
type HeaderSet = "host" | "browser";

// The issue's targets: CPU per request as a multiple of the raw server's,
// with browser headers for hello (the default log, and `log: false`), and
// with either for the 1 MiB stream.
const TARGETS = {
  "wsgi-log": { deno: 1.30, bun: 1.30, node: 1.30 },
  "wsgi": { deno: 1.15, bun: 1.10, node: 1.10 },
  stream: 1.05,
};

/** What is measured against what: the first mode is each group's baseline. */
interface Group {
  /**
   * "compare": the table a user decides by; "detail": against raw only;
   * "workers": the command line, supervised or not.
   */
  kind: Kind;
  workload: Workload;
  modes: Mode[];
  headers: HeaderSet[];
  /** wrk's connections; null: the configured number. */
  connections: number | null;
  /** false: never pinned (the workers need both cores). */
  pin?: false;
}
const GROUPS: Group[] = [
  {
    kind: "compare",
    workload: "hello",
    modes: ["raw", "hono", "hono-log", "srvx", "wsgi-log", "wsgi"],
    headers: ["browser"],
    connections: null,
  },
  {
    kind: "detail",
    workload: "hello",
    modes: ["raw", "raw-bytes", "raw-wsgi", "wsgi"],
    headers: ["host", "browser"],
    connections: null,
  },
  // The floor under the default access log (issue 19 §3).
  {
    kind: "detail",
    workload: "hello",
    modes: ["raw", "raw-bytes-log", "wsgi-log"],
    headers: ["browser"],
    connections: null,
  },
  {
    kind: "detail",
    workload: "stream",
    modes: ["raw-stream", "wsgi-stream"],
    headers: ["host", "browser"],
    connections: null,
  },
  // 100 MiB a response: a few connections keep the loopback busy.
  {
    kind: "detail",
    workload: "file",
    modes: ["wsgi-file", "wsgi-file-copy"],
    headers: ["host"],
    connections: 2,
  },
  // --workers: the supervisor's own cost on the hello app (CPU per
  // request), then 1 against 2 workers on 200 µs of CPU a request (req/s).
  {
    kind: "workers",
    workload: "hello",
    modes: ["cli-hello", "cli-hello-w1"],
    headers: ["host"],
    connections: null,
  },
  {
    kind: "workers",
    workload: "cpu",
    modes: ["cli-cpu", "cli-cpu-w2"],
    headers: ["host"],
    connections: null,
    pin: false,
  },
];
/** The command line's cases: its arguments, and the app it serves. */
const CLI_CASES: Partial<Record<Mode, { args: string[]; app: string }>> = {
  "cli-hello": { args: [], app: "hello" },
  "cli-hello-w1": { args: ["--workers", "1"], app: "hello" },
  "cli-cpu": { args: [], app: "cpu" },
  "cli-cpu-w2": { args: ["--workers", "2"], app: "cpu" },
};
/** CPython's servers, measured once (not per runtime). */
const PYTHON_GROUP: Group = {
  kind: "compare",
  workload: "hello",
  modes: ["wsgiref", "gunicorn", "waitress"],
  headers: ["browser"],
  connections: null,
};
const PYTHON_MODULES: Partial<Record<Mode, string>> = {
  gunicorn: "python3-gunicorn",
  waitress: "python3-waitress",
};
const FILE_SIZE = 100 * 1024 * 1024;
const HELLO_LENGTH = new TextEncoder().encode("¡Hola, mundo!").length;
const CASE_NAMES: Record<Mode, string> = {
  "raw": "raw hello",
  "raw-bytes": "raw bytes (floor)",
  "raw-bytes-log": "raw bytes + access line (floor)",
  "raw-wsgi": "raw WSGI (floor)",
  "hono": "Hono hello",
  "hono-log": "Hono hello, logger()",
  "srvx": "srvx hello",
  "wsgi": "wsgi hello",
  "wsgi-log": "wsgi hello, access log",
  "raw-stream": "raw 1 MiB stream",
  "wsgi-stream": "wsgi 1 MiB stream",
  "wsgi-file": "wsgi 100 MiB file, as is",
  "wsgi-file-copy": "wsgi 100 MiB file, copied",
  "wsgiref": "wsgiref",
  "gunicorn": "gunicorn",
  "waitress": "waitress",
  "cli-hello": "hello, one process (`wsgi app`)",
  "cli-hello-w1": "hello, one supervised worker (`--workers 1`)",
  "cli-cpu": "200 µs CPU a request, one process",
  "cli-cpu-w2": "200 µs CPU a request, `--workers 2`",
};
const RAW_SERVER: Record<Runtime, string> = {
  deno: "Deno.serve",
  bun: "Bun.serve",
  node: "node:http",
};

// Eight headers a browser sends on a same-origin XHR, plus wrk's own Host.
const BROWSER_HEADERS: [string, string][] = [
  ["Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
  ["Accept-Encoding", "gzip, deflate, br, zstd"],
  ["Accept-Language", "en-US,en;q=0.9,es;q=0.8"],
  [
    "User-Agent",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  ],
  [
    "Cookie",
    "sessionid=4f1c2d8e9a7b6c5d4e3f2a1b0c9d8e7f; csrftoken=Zx8yW7vU6tS5rQ4pO3nM2lK1jI0hG9fE; _ga=GA1.1.1234567890.1700000000",
  ],
  ["Cache-Control", "no-cache"],
  ["Referer", "http://127.0.0.1/app/dashboard"],
  ["X-Requested-With", "XMLHttpRequest"],
];

interface Config {
  runtimes: Runtime[];
  python: boolean;
  rounds: number;
  duration: number;
  warmup: number;
  threads: number;
  connections: number;
  write: boolean;
  quick: boolean;
  pin: boolean;
  /** --only: the kinds of rows measured; null: all (--quick: no detail). */
  only: Kind[] | null;
}

const USAGE =
  "usage: deno run -A scripts/bench.ts [--quick] [--write] [--no-pin] [--runtime deno,bun,node] [--no-python] [--rounds N] [--duration S] [--connections C] [--only compare,detail,workers]";

function usage(message: string): never {
  console.error(`bench: ${message}`);
  console.error(USAGE);
  Deno.exit(2);
}

function parseArgs(args: string[]): Config {
  const config: Config = {
    runtimes: [...RUNTIMES],
    python: true,
    rounds: 5,
    duration: 3,
    warmup: 1,
    threads: 1,
    connections: 32,
    write: false,
    quick: false,
    pin: true,
    only: null,
  };
  const number = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      usage(`${flag} takes a positive integer, got ${JSON.stringify(value)}`);
    }
    return n;
  };
  let rounds: number | null = null;
  let duration: number | null = null;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2) as [string, string?];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case "--quick":
        config.quick = true;
        break;
      case "--write":
        config.write = true;
        break;
      case "--pin":
        config.pin = true;
        break;
      case "--no-pin":
        config.pin = false;
        break;
      case "--no-python":
        config.python = false;
        break;
      case "--runtime":
      case "--runtimes": {
        const names = (value() ?? "").split(",").filter(Boolean);
        for (const name of names) {
          if (!(RUNTIMES as readonly string[]).includes(name)) {
            usage(
              `unknown runtime ${JSON.stringify(name)}; choose from ${
                RUNTIMES.join(", ")
              }`,
            );
          }
        }
        if (names.length === 0) {
          usage("--runtime needs a list, such as deno,bun");
        }
        config.runtimes = RUNTIMES.filter((r) => names.includes(r));
        break;
      }
      case "--rounds":
        rounds = number(flag, value());
        break;
      case "--duration":
        duration = number(flag, value());
        break;
      case "--connections":
        config.connections = number(flag, value());
        break;
      case "--only": {
        const kinds = (value() ?? "").split(",").filter(Boolean);
        const wrong = kinds.find((k) => !(KINDS as string[]).includes(k));
        if (wrong !== undefined || kinds.length === 0) {
          usage(
            `--only takes a list of ${KINDS.join(", ")}, got ${
              JSON.stringify(wrong ?? "")
            }`,
          );
        }
        config.only = KINDS.filter((k) => kinds.includes(k));
        break;
      }
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        usage(`unknown argument ${JSON.stringify(args[i])}`);
    }
  }
  if (config.write && config.only !== null) {
    usage("--write measures every row: it does not go with --only");
  }
  if (config.quick) {
    config.rounds = 1;
    config.duration = 2;
  }
  if (rounds !== null) config.rounds = rounds;
  if (duration !== null) config.duration = duration;
  return config;
}

/** The groups a run measures on a runtime: --quick drops the detail. */
function groupsFor(config: Config): Group[] {
  const kinds = config.only ??
    (config.quick ? KINDS.filter((k) => k !== "detail") : KINDS);
  return GROUPS.filter((g) => kinds.includes(g.kind));
}

/** The settings for one group's runs: some groups are never pinned. */
function groupConfig(config: Config, group: Group): Config {
  return group.pin === false ? { ...config, pin: false } : config;
}

// --- tools -----------------------------------------------------------------

async function output(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return (dec.decode(out.stdout) + dec.decode(out.stderr)).trim();
}

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function requireWrk(): Promise<string> {
  try {
    // wrk has no --version; its usage banner names the version.
    return (await output("wrk", ["--version"])).split("\n")[0]
      .replace(/ Copyright.*/, "");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.error(
      "bench: wrk is not installed (it is the one load generator used here).\n" +
        "  Install it with:  apt-get update && apt-get install -y wrk\n" +
        "  (or your system's package manager), then run this again.",
    );
    Deno.exit(2);
  }
}

function requireRuntime(runtime: Runtime): void {
  try {
    Deno.statSync(BIN + runtime);
  } catch {
    console.error(`bench: ${BIN}${runtime} is missing: run "npm ci" first`);
    Deno.exit(2);
  }
}

async function versionOf(runtime: Runtime): Promise<string> {
  const text = await output(BIN + runtime, ["--version"]);
  return runtime === "deno" ? text.split("\n")[0] : `${runtime} ${text}`;
}

/** A dev dependency's installed version, from its package.json. */
function packageVersion(name: string): string {
  try {
    const text = Deno.readTextFileSync(
      `${ROOT}node_modules/${name}/package.json`,
    );
    return JSON.parse(text).version;
  } catch {
    return "?";
  }
}

/**
 * Debian's CPython, where python3-gunicorn and python3-waitress install
 * (a python3 earlier on PATH, such as pyenv's, does not see them).
 */
const PYTHON = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
})();

interface PythonSetup {
  modes: Mode[];
  notes: string[];
  versions: string[];
}

/** Which Python servers can run here; a missing one becomes a note. */
async function pythonSetup(): Promise<PythonSetup> {
  const setup: PythonSetup = { modes: [], notes: [], versions: [] };
  if (!await succeeds(PYTHON, ["-c", "import wsgiref"])) {
    setup.notes.push(
      `The Python rows are skipped: ${PYTHON} is missing (apt-get install -y python3).`,
    );
    return setup;
  }
  setup.versions.push(
    (await output(PYTHON, ["--version"])).replace("Python", "CPython") +
      ` (${PYTHON})`,
  );
  for (const mode of PYTHON_GROUP.modes) {
    const pkg = PYTHON_MODULES[mode];
    if (pkg === undefined) {
      setup.modes.push(mode);
      continue;
    }
    const version = await output(PYTHON, [
      "-c",
      `import importlib.metadata as m, ${mode}; print(m.version("${mode}"))`,
    ]).catch(() => "");
    if (/^\d[\w.]*$/.test(version)) {
      setup.modes.push(mode);
      setup.versions.push(`${mode} ${version}`);
    } else {
      setup.notes.push(
        `The ${mode} row is skipped: ${PYTHON} cannot import ${mode} (apt-get install -y ${pkg}).`,
      );
    }
  }
  return setup;
}

// --- servers ---------------------------------------------------------------

interface Server {
  mode: Mode;
  pid: number;
  port: number;
  child: Deno.ChildProcess;
  /** The file the server's stderr goes to. */
  log: string;
  stderr: () => string;
}

/** The last 4000 characters of a server's stderr, for error messages. */
function tailOf(path: string): () => string {
  return () => {
    try {
      return Deno.readTextFileSync(path).slice(-4000);
    } catch {
      return "";
    }
  };
}

async function startServer(
  config: Config,
  engine: Engine,
  mode: Mode,
  file: string,
  dir: string,
): Promise<Server> {
  const cli = CLI_CASES[mode];
  const cliArgs = cli === undefined
    ? []
    : [CLI, ...cli.args, "--port", "0", "-q", `${WORKERS_APP}:${cli.app}`];
  const cmd = engine === "python"
    ? [PYTHON, PY_APP, mode]
    : cli !== undefined
    ? engine === "deno"
      ? [BIN + engine, "run", "-A", ...cliArgs]
      : [BIN + engine, ...cliArgs]
    : engine === "deno"
    ? [BIN + engine, "run", "-A", SERVER, mode, "0", file]
    : [BIN + engine, SERVER, mode, "0", file];
  // stderr goes to a file opened for appending (so that it can be emptied
  // between runs); sh and taskset exec the server: the pid stays its own.
  const log = `${dir}/${engine}-${mode}.stderr`;
  const argv = config.pin ? ["taskset", "-c", "1", ...cmd] : cmd;
  const child = new Deno.Command("sh", {
    args: ["-c", 'f="$1"; shift; exec "$@" 2>>"$f"', "sh", log, ...argv],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1", PYTHONUNBUFFERED: "1" },
  }).spawn();
  const stderr = tailOf(log);
  // _bench_server.ts says "PORT n"; the command line, "... port n (".
  const port = await portLine(
    child,
    /^PORT (\d+)$|port (\d+) \(/m,
    `The ${engine} server for ${JSON.stringify(mode)}`,
  ).catch((error) => {
    throw new Error(`${(error as Error).message}${stderr()}`);
  });
  return { mode, pid: child.pid, port, child, log, stderr };
}

async function stopServer(server: Server): Promise<void> {
  // A supervisor's workers, should it have to be killed.
  const workers = descendants(server.pid);
  const kill = (pid: number, signal: Deno.Signal): void => {
    try {
      Deno.kill(pid, signal);
    } catch {
      // Already gone.
    }
  };
  kill(server.pid, "SIGTERM");
  const timer = setTimeout(() => kill(server.pid, "SIGKILL"), 3000);
  await server.child.status;
  clearTimeout(timer);
  for (const pid of workers) kill(pid, "SIGKILL");
}

/** The live descendants of a process (/proc/<pid>/task/<tid>/children). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const children = Deno.readTextFileSync(
        `/proc/${pid}/task/${task.name}/children`,
      ).trim();
      for (const child of children ? children.split(" ") : []) {
        out.push(Number(child), ...descendants(Number(child)));
      }
    }
  } catch {
    // A process that has just exited.
  }
  return out;
}

/**
 * utime + stime of a process and of its live descendants (gunicorn's
 * worker), in seconds (/proc/<pid>/stat, fields 14-15).
 */
function cpuSeconds(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${p}/stat`);
      // The command name (field 2) may hold spaces: split after its ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    } catch {
      // A process that has just exited.
    }
  }
  return total;
}

let CLK_TCK = 100;

/** Checks that a server answers what it should before timing it. */
async function check(server: Server, engine: Engine): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${server.port}/`);
  const body = new Uint8Array(await response.arrayBuffer());
  const want = server.mode.endsWith("-stream")
    ? 1024 * 1024
    : server.mode.startsWith("wsgi-file")
    ? FILE_SIZE
    : HELLO_LENGTH;
  if (response.status !== 200 || body.length !== want) {
    throw new Error(
      `The ${engine} ${server.mode} server answered ${response.status} with ${body.length} bytes, expected 200 with ${want}`,
    );
  }
}

// --- wrk -------------------------------------------------------------------

interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  bytesPerSecond: number;
  errors: number;
}

async function wrk(
  config: Config,
  port: number,
  seconds: number,
  script: string | null,
  connections: number,
): Promise<WrkResult> {
  const args = [
    `-t${config.threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    "--timeout",
    "10s",
  ];
  if (script) args.push("-s", script);
  args.push(`http://127.0.0.1:${port}/`);
  const text = config.pin
    ? await output("taskset", ["-c", "0", "wrk", ...args])
    : await output("wrk", args);
  const m = /(\d+) requests in ([\d.]+)(ms|s|m)\b/.exec(text);
  const transfer = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!m || !rps) throw new Error(`Cannot read wrk's output:\n${text}`);
  const unit = m[3] === "ms" ? 0.001 : m[3] === "m" ? 60 : 1;
  let errors = 0;
  const socket =
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(text);
  if (socket) errors += socket.slice(1).reduce((a, b) => a + Number(b), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  const scale: Record<string, number> = {
    B: 1,
    KB: 1024,
    MB: 1024 ** 2,
    GB: 1024 ** 3,
  };
  return {
    requests: Number(m[1]),
    seconds: Number(m[2]) * unit,
    rps: Number(rps[1]),
    bytesPerSecond: transfer ? Number(transfer[1]) * scale[transfer[2]] : 0,
    errors,
  };
}

function luaScript(): string {
  const lines = BROWSER_HEADERS.map(([name, value]) =>
    `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`
  );
  return `-- Browser-like request headers (wrk adds Host).\n${
    lines.join("\n")
  }\n`;
}

// --- measuring -------------------------------------------------------------

interface Sample {
  rps: number;
  cpuPerReq: number; // microseconds
  bytesPerSecond: number;
  errors: number;
}

interface Row {
  engine: Engine;
  kind: Group["kind"];
  mode: Mode;
  workload: Workload;
  headers: HeaderSet;
  baseline: boolean;
  samples: Sample[];
  rpsRatios: number[];
  cpuRatios: number[];
}

async function measure(
  config: Config,
  server: Server,
  script: string | null,
  connections: number,
): Promise<Sample> {
  // A run's log starts empty: the access log's file never grows without
  // bound over a long benchmark.
  await Deno.truncate(server.log, 0).catch(() => {});
  await wrk(config, server.port, config.warmup, script, connections);
  const before = cpuSeconds(server.pid);
  const result = await wrk(
    config,
    server.port,
    config.duration,
    script,
    connections,
  );
  const after = cpuSeconds(server.pid);
  if (result.requests === 0) {
    throw new Error(
      `wrk completed no request against the ${server.mode} server:\n${server.stderr()}`,
    );
  }
  return {
    rps: result.rps,
    cpuPerReq: (after - before) * 1e6 / result.requests,
    bytesPerSecond: result.bytesPerSecond,
    errors: result.errors,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Measures the groups on one engine, interleaving the modes of each. */
async function benchEngine(
  config: Config,
  engine: Engine,
  groups: Group[],
  script: string,
  file: string,
  dir: string,
  progress: (line: string) => void,
): Promise<Row[]> {
  const servers = new Map<Mode, Server>();
  const rows: Row[] = [];
  try {
    for (const group of groups) {
      for (const mode of group.modes) {
        if (servers.has(mode)) continue;
        const server = await startServer(
          groupConfig(config, group),
          engine,
          mode,
          file,
          dir,
        );
        servers.set(mode, server);
        await check(server, engine);
      }
    }
    for (const group of groups) {
      const connections = group.connections ?? config.connections;
      for (const headers of group.headers) {
        const lua = headers === "browser" ? script : null;
        const groupRows = group.modes.map((mode, i): Row => ({
          engine,
          kind: group.kind,
          mode,
          workload: group.workload,
          headers,
          baseline: i === 0,
          samples: [],
          rpsRatios: [],
          cpuRatios: [],
        }));
        for (let round = 1; round <= config.rounds; round++) {
          const samples: Sample[] = [];
          for (const row of groupRows) {
            const sample = await measure(
              groupConfig(config, group),
              servers.get(row.mode)!,
              lua,
              connections,
            );
            samples.push(sample);
            row.samples.push(sample);
            row.rpsRatios.push(sample.rps / samples[0].rps);
            row.cpuRatios.push(sample.cpuPerReq / samples[0].cpuPerReq);
          }
          progress(
            `${engine} ${group.kind} ${group.workload} ${headers} round ${round}/${config.rounds}: ${
              groupRows.map((row, i) =>
                `${row.mode} ${samples[i].rps.toFixed(0)} req/s ${
                  samples[i].cpuPerReq.toFixed(1)
                } µs/req (CPU ×${row.cpuRatios.at(-1)!.toFixed(3)})`
              ).join("; ")
            }`,
          );
        }
        rows.push(...groupRows);
      }
    }
  } finally {
    await Promise.all([...servers.values()].map(stopServer));
  }
  return rows;
}

// --- report ----------------------------------------------------------------

const rpsOf = (row: Row): number => median(row.samples.map((s) => s.rps));
const cpuOf = (row: Row): number => median(row.samples.map((s) => s.cpuPerReq));
const errorsOf = (row: Row): number =>
  row.samples.reduce((a, s) => a + s.errors, 0);

function rangeText(values: number[], rounds: number): string {
  return rounds > 1
    ? ` (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
    : "";
}

function targetOf(row: Row): number | null {
  if (row.baseline || row.engine === "python") return null;
  if (row.workload === "stream") return TARGETS.stream;
  if (row.workload !== "hello" || row.headers !== "browser") return null;
  if (row.mode === "wsgi" || row.mode === "wsgi-log") {
    return TARGETS[row.mode][row.engine];
  }
  return null;
}

/** The server's name as a user knows it. */
function serverName(row: Row): string {
  const hono = `Hono ${packageVersion("hono")}`;
  const srvx = `srvx ${packageVersion("srvx")}`;
  switch (row.mode) {
    case "raw":
      return `\`${RAW_SERVER[row.engine as Runtime]}\` (raw)`;
    case "hono":
      return row.engine === "node" ? `${hono} (on srvx's Node adapter)` : hono;
    case "hono-log":
      return `${hono} with \`logger()\`${
        row.engine === "node" ? " (on srvx's Node adapter)" : ""
      }`;
    case "srvx":
      return srvx;
    case "wsgi-log":
      return "wsgi `makeServer()`, default (access log)";
    case "wsgi":
      return "wsgi `makeServer()`, `log: false`";
    case "wsgiref":
      return "wsgiref `make_server()`";
    case "gunicorn":
      return "gunicorn (sync, 1 worker)";
    case "waitress":
      return "waitress (4 threads)";
    default:
      return CASE_NAMES[row.mode];
  }
}

/** "+0.8 µs (+11%)" or "−0.3 µs (−4%)": a row's CPU beside the raw one's. */
function extra(row: Row, raw: Row): string {
  const d = cpuOf(row) - cpuOf(raw);
  const pct = (median(row.cpuRatios) - 1) * 100;
  const sign = (n: number): string => (n < 0 ? "−" : "+");
  return `${sign(d)}${Math.abs(d).toFixed(1)} µs (${sign(pct)}${
    Math.abs(pct).toFixed(0)
  }%)`;
}

/** The plain-words column: what choosing this row costs a user. */
function costWords(row: Row, rows: Row[]): string {
  if (row.engine === "python") {
    const ours = rows.filter((r) =>
      r.kind === "compare" && r.mode === "wsgi-log"
    );
    const times = ours.map((r) => cpuOf(row) / cpuOf(r));
    const span = times.length === 0
      ? ""
      : `${Math.min(...times).toFixed(0)}${
        times.length > 1 ? `–${Math.max(...times).toFixed(0)}` : ""
      }× the CPU per request of \`makeServer()\` with its log; `;
    switch (row.mode) {
      case "wsgiref":
        return `${span}one request at a time, a new connection for each, an access line on stderr`;
      case "gunicorn":
        return `${span}one request at a time per worker, a new connection for each, no access log`;
      default:
        return `${span}keep-alive, no access log`;
    }
  }
  const raw = rows.find((r) =>
    r.engine === row.engine && r.kind === row.kind && r.baseline
  )!;
  const over = `${extra(row, raw)} CPU a request over \`${
    RAW_SERVER[row.engine]
  }\``;
  switch (row.mode) {
    case "raw":
      return "the floor: the runtime's own server answering a string, no routing, no log";
    case "hono":
      return `${over}: routing and a Context per request`;
    case "hono-log":
      return `${over}: the same with Hono's log, two lines a request on stdout (no client address)`;
    case "srvx":
      return `${over}: one portable \`fetch\` handler for every runtime`;
    case "wsgi-log":
      return `${over}: a whole WSGI environ, \`startResponse\`'s checks, bytes, and wsgiref's access line on stderr`;
    case "wsgi":
      return `${over}: the same without the access log`;
    default:
      return over;
  }
}

/** The table a user decides by: req/s, CPU, and what each costs. */
function compareTable(rows: Row[], rounds: number): string {
  const head = [
    "runtime",
    "server",
    "req/s",
    "CPU µs/req",
    "CPU ratio",
    "what it costs you",
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => i >= 2 && i <= 4 ? "--:" : "---").join("|")}|`,
  ];
  for (const row of rows.filter((r) => r.kind === "compare")) {
    const errors = errorsOf(row);
    lines.push(
      `| ${
        [
          row.engine === "python" ? "CPython" : row.engine,
          `${serverName(row)}${errors ? ` ⚠ ${errors} errors` : ""}`,
          rpsOf(row).toFixed(0),
          cpuOf(row).toFixed(1),
          row.engine === "python"
            ? "—"
            : row.baseline
            ? "1.00"
            : median(row.cpuRatios).toFixed(2) +
              rangeText(row.cpuRatios, rounds),
          costWords(row, rows),
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

/** Against the runtime's own server: the floor, streams, files, targets. */
function detailTable(rows: Row[], rounds: number): string {
  const head = [
    "runtime",
    "case",
    "headers",
    "req/s",
    "MiB/s",
    "req/s ratio",
    "CPU µs/req",
    "CPU ratio",
    "target",
    "met",
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => i < 3 || i > 8 ? "---" : "--:").join("|")}|`,
  ];
  const shown = rows.filter((r) =>
    r.kind === "detail" ||
    (r.engine !== "python" && (r.mode === "wsgi-log" || r.mode === "wsgi"))
  );
  for (const row of shown) {
    const target = targetOf(row);
    const cpuRatio = median(row.cpuRatios);
    const errors = errorsOf(row);
    const mib = median(row.samples.map((s) => s.bytesPerSecond)) / 1024 ** 2;
    lines.push(
      `| ${
        [
          row.engine,
          `${CASE_NAMES[row.mode]}${errors ? ` ⚠ ${errors} errors` : ""}`,
          row.headers === "host" ? "Host only" : "browser (9)",
          rpsOf(row).toFixed(0),
          mib >= 10 ? mib.toFixed(0) : mib.toFixed(1),
          row.baseline ? "1.00" : median(row.rpsRatios).toFixed(2) +
            rangeText(row.rpsRatios, rounds),
          cpuOf(row).toFixed(1),
          row.baseline
            ? "1.00"
            : cpuRatio.toFixed(2) + rangeText(row.cpuRatios, rounds),
          target === null ? "—" : `≤ ${target.toFixed(2)}`,
          target === null ? "—" : cpuRatio <= target ? "yes" : "**no**",
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

/**
 * The command line, supervised or not: the supervisor's CPU per request on
 * hello, and what a second worker adds on an app with CPU work.
 */
function workersTable(rows: Row[], rounds: number): string {
  const head = ["runtime", "case", "req/s", "CPU µs/req", "ratio"];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => i < 2 ? "---" : "--:").join("|")}|`,
  ];
  for (const row of rows.filter((r) => r.kind === "workers")) {
    const errors = errorsOf(row);
    // hello: what the supervisor costs (CPU); 200 µs: what a worker adds.
    const ratios = row.workload === "hello" ? row.cpuRatios : row.rpsRatios;
    lines.push(
      `| ${
        [
          row.engine,
          `${CASE_NAMES[row.mode]}${errors ? ` ⚠ ${errors} errors` : ""}`,
          rpsOf(row).toFixed(0),
          cpuOf(row).toFixed(1),
          row.baseline
            ? "1.00"
            : `${row.workload === "hello" ? "CPU" : "req/s"} ×${
              median(ratios).toFixed(2)
            }${rangeText(ratios, rounds)}`,
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

// --- the chart -------------------------------------------------------------

/** One bar of the chart. */
export interface Bar {
  label: string;
  value: number;
  /** raw, peer, wsgi or python: the bar's colour. */
  kind: "raw" | "peer" | "wsgi" | "python";
}

const COLOURS: Record<Bar["kind"], string> = {
  raw: "#8c8c8c",
  peer: "#4e79a7",
  wsgi: "#e8772e",
  python: "#59a14f",
};

const xml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

/**
 * A horizontal bar chart of requests per second, as SVG text (no
 * dependency). `note` is printed under the title; with no bars, the chart
 * says only that.
 */
export function chartSvg(title: string, note: string, bars: Bar[]): string {
  const width = 760;
  const labelWidth = 300;
  const barHeight = 18;
  const gap = 6;
  const top = 56;
  const plot = width - labelWidth - 90;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = top + Math.max(1, bars.length) * (barHeight + gap) + 24;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${
      xml(title)
    }</text>`,
    `<text x="12" y="40" fill="#555555">${xml(note)}</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = top + i * (barHeight + gap);
    const w = Math.max(1, Math.round(bar.value / max * plot));
    out.push(
      `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${
        xml(bar.label)
      }</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${
        COLOURS[bar.kind]
      }"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 13}">${
        Math.round(bar.value).toLocaleString("en-US")
      }</text>`,
    );
  });
  if (bars.length === 0) {
    out.push(
      `<text x="12" y="${top + 14}" fill="#555555">No figures yet.</text>`,
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The comparison rows as bars. */
function bars(rows: Row[]): Bar[] {
  return rows.filter((r) => r.kind === "compare").map((row) => ({
    label: `${row.engine === "python" ? "CPython" : row.engine} · ${
      serverName(row).replaceAll("`", "")
    }`,
    value: rpsOf(row),
    kind: row.engine === "python"
      ? "python"
      : row.mode === "raw"
      ? "raw"
      : row.mode.startsWith("wsgi")
      ? "wsgi"
      : "peer",
  }));
}

interface MachineInfo {
  cores: string;
  cpu: string;
  /** 1-minute load averages before and after the run. */
  load: [string, string];
}

async function machine(loadBefore: string): Promise<MachineInfo> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  return {
    cores: await output("nproc", []),
    cpu: model,
    load: [loadBefore, loadAverage()],
  };
}

/** The 1-minute load average: other work on the machine skews everything. */
function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
}

function markdown(
  config: Config,
  rows: Row[],
  notes: string[],
  versions: string[],
  host: MachineInfo,
  command: string,
): string {
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const noted = notes.length
    ? `\n${notes.map((n) => `- ${n}`).join("\n")}\n`
    : "";
  return `# Benchmarks

<!-- Generated by \`${command}\`; do not edit by hand. -->

How fast is a WSGI application served by \`makeServer()\`, compared with
what you would use instead: the runtime's own server, Hono or srvx, or
Python's own WSGI servers?

![Requests per second per server](benchmarks.svg)

## The tutorial's hello, with a browser's headers

${compareTable(rows, config.rounds)}
${noted}
**Reading it.** Every server answers the tutorial's text, "¡Hola, mundo!"
(14 bytes, \`text/plain; charset=utf-8\`), to wrk sending a browser's nine
headers. The raw server, Hono and srvx give it as a string; the WSGI app
returns it encoded, as WSGI requires
(\`startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]])\`,
\`return [new TextEncoder().encode("¡Hola, mundo!")]\`), and the Python rows
run the tutorial's app unchanged (\`scripts/bench_app.py\`). *req/s* is
what one core served (the client has the other); *CPU µs/req* is what each
request cost the server, the figure to size a machine by; *CPU ratio* is that
cost over the runtime's own server measured in the same round. *default
(access log)* is \`makeServer()\` as it comes: a wsgiref line per request on
stderr, here a file; \`log: false\` silences it. *Hono with \`logger()\`* is
the same Hono app with its own logger middleware as a Hono user turns it on
(\`app.use(logger())\`): two lines a request through \`console.log\`, on
stdout (a pipe the benchmark drains), with no client address; the row to
compare with the default. wsgiref's listen backlog is
raised from 5 to 1024 so that wrk's 32 connections queue instead of being
dropped; gunicorn runs its sync worker (one), waitress its defaults.

## Against the runtime's own server

${detailTable(rows, config.rounds)}

**Reading it.** Each runtime's own server (\`Deno.serve\`, \`Bun.serve\`,
\`node:http\`) is the baseline, "raw". *raw bytes (floor)* is the runtime's
own server doing only what any server of an app that answers bytes must do:
read the request's URL and method, and send the tutorial's bytes, encoded
per request, as the app does; the gap between it and raw hello is not
WSGI's, the gap between it and wsgi hello is. *raw WSGI (floor)* is the
least any WSGI server must add, with no check: a plain environ of the CGI
and \`wsgi.*\` keys (without the \`HTTP_*\` ones, which makeServer's environ
also reads only when asked), a \`start_response\` that keeps the status and
headers, the app called, and its status and headers answered; the gap
between it and wsgi hello is what the checks and the laziness cost. *raw
bytes + access line
(floor)* adds what any server writing wsgiref's access line must do: ask the
runtime for the client's address, format the line (its date made once a
second) and write the lines to stderr 4 KiB at a time; it is the floor under
the default log. *1 MiB stream*: 16 chunks of
64 KiB, from a generator for wsgi, from a pull-based \`ReadableStream\`
(Deno, Bun) or \`res.write()\` with backpressure (Node) for raw; both
chunked. *100 MiB file*: an app returning
\`environ["wsgi.file_wrapper"](file, 65536)\` over the runtime's own file
object (Deno: a file's \`readable\` stream; Bun: \`Bun.file()\`; Node:
\`fs.openAsBlob()\`): *as is*, the core hands the file to the runtime's
\`Response\` (on Node, streams it to the socket); *copied*, the same wrapper
is iterated by an async generator, so the core copies it block by block; its
ratios are over *as is*. *Host only*: wrk's bare request; *browser (9)*: Host
plus Accept, Accept-Encoding, Accept-Language, User-Agent, Cookie,
Cache-Control, Referer and X-Requested-With, set by a wrk Lua script. The
apps read no header. *target*: the ceilings of issue 11 for the CPU ratio
(browser headers: the default log 1.30 everywhere; \`log: false\` Deno 1.15,
Bun 1.10, Node 1.10; 1 MiB stream: 1.05).

**Where the time goes.** Profiles (\`--cpu-prof\` on Deno, Bun and Node),
in-process timings of each step (the same call repeated on one live request)
and interleaved runs of one change at a time (issue 19) showed, for hello:
*Deno*: wsgi hello costs what the floor rows cost (raw bytes, raw WSGI):
what is left is under them, in what any server of a WSGI app pays Deno.
Reading \`request.url\` and \`request.method\` and the Host header (one call
into Deno's own request each; Host for RFC 9112 §3.2, since Deno builds the
URL from it), the app's own \`TextEncoder.encode\`, and a \`Response\` whose
init names a status and a header list: Deno 2.9 answers \`new
Response(text)\` with no init (Hono's \`c.text()\`, the raw row) on a path
that validates nothing, and takes it with a header only when that header is
Content-Type with exactly \`text/plain\`, \`text/plain;charset=UTF-8\` or
\`application/json\`; the app's \`text/plain; charset=utf-8\` is validated (0.3–0.4
µs), as any other app's would be. The \`Response\` of makeServer takes Deno's
static fast path otherwise (a 200 whose one header is Content-Type, a body
known whole, as text: see below); no statusText is given, since neither Deno
nor Bun sends one (their own reason phrase goes on the wire; validating it
cost Deno 0.1–0.3 µs). The Deno shim hands \`Deno.serve\` a short body known
whole (up to 1 KiB of well-formed UTF-8, with the app's Content-Type) as the
text it encodes, which saved 2–4 µs a request on Deno 2.5 (a \`Uint8Array\`
body was copied); on 2.9.6 interleaved runs could not tell the two apart.
Touching \`request.headers\` would cost 6% more (Deno then copies every
header when the response ends), which is why the environ asks for headers
and the peer only when the app reads a key made from them. Any header beyond
Content-Type also moves Deno off its fast path for a 200 (3 µs), so the
Content-Length of a body known whole is left to the runtime. Garbage
collection is a third of wsgi's JavaScript on Deno's main thread (the
environ, its Proxy, the response state: objects made per request). *Bun*:
raw WSGI (a plain environ, no check) is already above the 1.10 target: the
\`Response\` constructor is 28% of wsgi's JS samples and 63% of the raw
bytes floor's (0.4 µs with a header list), and an environ of twenty keys and a
\`start_response\` call cost what they cost; what wsgi adds over raw WSGI
(0.1 of a request, about 0.9 µs) is the request's facts object, the lazy
environ's Proxy, \`startResponse\`'s checks (PEP 3333: status line, header
names and values), the Host check and PATH_INFO's unquoting, each 0.05–0.15
µs. A string body saves Bun nothing (measured). *Node*: the environ is built
straight from \`IncomingMessage\`, the response written with one
\`writeHead(code, reason, flatList)\` and one \`end(body)\`: the raw
server's own path (profiles of both show the same corked \`writev\` from
\`end()\`, 40% of busy samples). *The access log* costs, per request: the
client's address (Bun's \`server.requestIP()\`: 0.9 µs in-process, a native
call that makes an object, and Bun forgets the peer once the response is
handed over, so it cannot be asked for later; Deno's
\`info.remoteAddr.hostname\`: 0.4 µs, one call into Deno and an object; Node's
\`socket.remoteAddress\`: cached by Node per connection); then one line
formatted (0.2–0.3 µs: its date made once a second, a character loop to find
the rare line to escape), and one \`write\` per 4 KiB of lines (about 5 µs a
batch, 0.1 µs a line; batched: whole lines, never more than \`PIPE_BUF\` a
write, so that workers sharing a pipe never split a line; everything held is
written at \`shutdown()\` and at process exit). *raw bytes + access line*
measures that floor: on Deno and Bun it is above the 1.30 target by itself.
For the 1 MiB stream, kernel time (copying to the socket) is 75–90% of the
CPU, and its variance between runs is larger than the whole difference
between raw and wsgi.

**What the security fixes cost.** A header must never change the path the app
sees, and RFC 9112 §3.2 wants a bad Host refused: Deno builds \`Request.url\`
from Host, so its shim reads Host on every request (one call into Deno's own
request object: about 4% of a bare \`Deno.serve\` request; through
\`request.headers\` it would be a quarter), and a GET's Content-Length and
Transfer-Encoding, to read a body Deno would drop: together 5–9% of a request.
On Bun, Host is checked from the URL Bun built and read only when Bun refused it:
reading it on every request made Bun build every request's headers, 3.5 µs, a
quarter of the request with a browser's nine headers (measured: \`log: false\`
1.59 → 1.28 of \`Bun.serve\`).

## Workers

${workersTable(rows, config.rounds)}

**Reading it.** The command line (\`mod.ts\`) serving
\`scripts/_bench_workers_app.ts\` with \`-q\` (no access log). *hello, one
process* is \`wsgi app\`: one unsupervised \`makeServer()\`; *one supervised
worker* is \`wsgi --workers 1 app\`: the parent, with its heartbeat, and one
worker serving; its *ratio* is the CPU per request of the parent and its
worker together over the plain process's, measured in the same round and
pinned to CPU 1 like every row above: what supervision costs. *200 µs CPU a
request*: an app that spins for 200 µs before answering hello, served by one
process and by \`--workers 2\`, neither the servers nor wrk pinned (two
workers need both cores, and wrk shares them); its *ratio* is req/s over the
one process's: what a second worker adds on ${host.cores} cores, of which
wrk takes a part.

## Method

One load generator for all, wrk (\`-t${config.threads} -c${config.connections}\`,
2 connections for the file), on 127.0.0.1${
    config.pin ? "; the server runs on CPU 1 and wrk on CPU 0 (taskset)" : ""
  }. Every server is a child process of its own
(\`scripts/_bench_server.ts\`, \`scripts/bench_app.py\`), its stderr going to
a file. Runs are interleaved within each group (raw, Hono, srvx, wsgi...; or
raw, floor, wsgi), ${config.rounds} round${
    config.rounds > 1 ? "s" : ""
  } of ${config.duration} s each, each run after a ${config.warmup} s warm-up
run. *CPU µs/req* is the server process's utime + stime (\`/proc/<pid>/stat\`,
all its threads and child processes) over the measured run, divided by the
requests wrk completed. With ${host.cores} cores, wrk often saturates before
the server does, so req/s understates the server's own cost: CPU per request
is the figure to compare. Ratios are over the group's first row within the
same round; the tables show their median${
    config.rounds > 1 ? " and, in brackets, their range" : ""
  }; req/s, MiB/s and µs/req are medians. This machine is a shared virtual
one: the same run repeated moves single figures by 5–15%, so read the ranges.

## Environment

- Date: ${date}
- Command: \`${command}\`
- Machine: ${host.cores} cores, ${host.cpu} (Linux ${Deno.osRelease()}); 1-minute
  load average ${host.load[0]} before the run, ${host.load[1]} after (the
  benchmark itself adds about 2)
${versions.map((v) => `- ${v}`).join("\n")}
`;
}

// --- main ------------------------------------------------------------------

async function main(): Promise<void> {
  // --deploy: the deployment paths (systemd's fd, PROXY protocol), no wrk.
  if (Deno.args[0] === "--deploy") {
    return void await import("./_bench_deploy.ts");
  }
  // --toolkit: the toolkit's rows (scripts/_bench_toolkit.ts), on their own.
  if (Deno.args[0] === "--toolkit") {
    return (await import("./_bench_toolkit.ts")).main(Deno.args.slice(1));
  }
  if (Deno.args.includes("--python-app")) {
    // Flask through Pyodide vs gunicorn: its own rows (issue 16).
    return await (await import("./_bench_python.ts")).benchPythonCli(Deno.args);
  }
  const config = parseArgs(Deno.args);
  const wrkVersion = await requireWrk();
  for (const runtime of config.runtimes) requireRuntime(runtime);
  const ticks = Number(await output("getconf", ["CLK_TCK"]));
  if (ticks > 0) CLK_TCK = ticks;
  if (config.pin) config.pin = await canPin();
  const command = ["deno run -A scripts/bench.ts", ...Deno.args].join(" ");
  const loadBefore = loadAverage();
  if (Number(loadBefore) > 0.5) {
    console.error(
      `bench: warning: the load average is ${loadBefore}; other processes will skew the figures`,
    );
  }
  const groups = groupsFor(config);
  const python: PythonSetup =
    config.python && groups.some((g) => g.kind === "compare")
      ? await pythonSetup()
      : { modes: [], notes: [], versions: [] };
  for (const note of python.notes) console.error(`bench: ${note}`);
  let runs = 0;
  for (const group of groups) {
    runs += group.modes.length * group.headers.length;
  }
  runs = runs * config.runtimes.length + python.modes.length;
  const estimate = runs * config.rounds *
    (config.duration + config.warmup + 0.3);
  console.error(
    `bench: ${
      [...config.runtimes, ...(python.modes.length ? ["python"] : [])]
        .join(", ")
    }; ${config.rounds} round(s) of ${config.duration} s; wrk -t${config.threads} -c${config.connections}${
      config.pin ? "; pinned" : ""
    }${
      config.only !== null
        ? `; --only ${config.only.join(",")}`
        : config.quick
        ? "; --quick: no detail cases"
        : ""
    }; about ${Math.ceil(estimate / 60)} min`,
  );
  const dir = await Deno.makeTempDir({ prefix: "wsgi-bench-" });
  const script = `${dir}/browser.lua`;
  const file = `${dir}/100MiB.bin`;
  const rows: Row[] = [];
  try {
    await Deno.writeTextFile(script, luaScript());
    if (groups.some((g) => g.workload === "file")) {
      await writeFile(file, FILE_SIZE);
    }
    const progress = (line: string) => console.error(`  ${line}`);
    for (const runtime of config.runtimes) {
      rows.push(
        ...await benchEngine(
          config,
          runtime,
          groups,
          script,
          file,
          dir,
          progress,
        ),
      );
    }
    if (python.modes.length) {
      rows.push(
        ...await benchEngine(
          config,
          "python",
          [{ ...PYTHON_GROUP, modes: python.modes }],
          script,
          file,
          dir,
          progress,
        ),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const kinds = new Set(rows.map((r) => r.kind));
  const tables = [
    kinds.has("compare") ? compareTable(rows, config.rounds) : "",
    kinds.has("detail") ? detailTable(rows, config.rounds) : "",
    kinds.has("workers") ? workersTable(rows, config.rounds) : "",
  ];
  console.log(tables.filter((t) => t !== "").join("\n\n"));
  for (const note of python.notes) console.log(`\n${note}`);
  const chart = (): string =>
    chartSvg(
      "Requests per second: the tutorial's hello, browser headers",
      `wrk -c${config.connections}, one core for the server; ${
        new Date().toISOString().slice(0, 10)
      }; see BENCHMARKS.md for CPU per request`,
      bars(rows),
    );
  if (config.write) {
    const versions = [
      ...await Promise.all(config.runtimes.map(versionOf)),
      `hono ${packageVersion("hono")}, srvx ${packageVersion("srvx")}`,
      ...python.versions,
      wrkVersion,
    ];
    const text = markdown(
      config,
      rows,
      python.notes,
      versions,
      await machine(loadBefore),
      command,
    );
    const path = `${ROOT}BENCHMARKS.md`;
    // Keep the "Soak" section that scripts/soak.ts --write maintains.
    const old = await Deno.readTextFile(path).catch(() => "");
    const soak = old.indexOf("\n## Soak\n");
    await Deno.writeTextFile(
      path,
      soak === -1 ? text : `${text.trimEnd()}\n${old.slice(soak)}`,
    );
    // The repository's own formatting, so that `deno fmt --check` holds.
    await output(Deno.execPath(), ["fmt", "--quiet", path]);
    await Deno.writeTextFile(CHART, chart());
    await output(Deno.execPath(), ["fmt", "--quiet", CHART]);
    console.error("bench: wrote BENCHMARKS.md and benchmarks.svg");
  } else if (kinds.has("compare")) {
    const path = await Deno.makeTempFile({
      prefix: "wsgi-bench-",
      suffix: ".svg",
    });
    await Deno.writeTextFile(path, chart());
    console.error(`bench: the chart is in ${path} (--write puts it in place)`);
  }
}

/** True when taskset exists and there are two cores to split. */
async function canPin(): Promise<boolean> {
  try {
    const cores = Number(await output("nproc", []));
    await output("taskset", ["-c", "0", "true"]);
    return cores >= 2;
  } catch {
    console.error("bench: taskset is missing; the runs are not pinned");
    return false;
  }
}

/** A file of `size` pseudo-random bytes (written in 1 MiB blocks). */
async function writeFile(path: string, size: number): Promise<void> {
  const block = new Uint8Array(1024 * 1024);
  let x = 2463534242;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  const file = await Deno.open(path, { write: true, create: true });
  try {
    for (let written = 0; written < size; written += block.length) {
      // write() may take part of a block.
      for (let at = 0; at < block.length;) {
        at += await file.write(block.subarray(at));
      }
    }
  } finally {
    file.close();
  }
}

// --metrics: what makeServer's metrics option costs (scripts/_bench_metrics.ts).
if (import.meta.main && Deno.args[0] === "--metrics") {
  await (await import("./_bench_metrics.ts")).report(Deno.args.slice(1));
} else if (import.meta.main) await main();
