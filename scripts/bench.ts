// Benchmarks makeServer() against each runtime's own server, with wrk.
//
//   deno run -A scripts/bench.ts [--quick] [--write] [--no-pin]
//                                [--runtime deno,bun,node]
//                                [--rounds N] [--duration S] [--connections C]
//
// (`npm run bench` runs it.) For each runtime (deno, bun and node 24, all
// from node_modules/.bin) it starts seven servers (scripts/_bench_server.ts:
// raw, raw-bytes, wsgi, raw-stream, wsgi-stream, wsgi-file, wsgi-file-copy),
// each a child process of its own, and loads them with ONE generator, wrk,
// interleaved within each group: raw, wsgi, raw, wsgi...
// Each run is preceded by a warm-up run; the server's CPU time (utime +
// stime from /proc/<pid>/stat) is read around the measured run and divided
// by the requests wrk completed. On a 2-core machine the load generator
// often saturates before the server does, so CPU per request is the figure
// the targets are about; req/s is shown too. Every figure for wsgi is also
// given as a ratio to the raw server measured in the same round (the median
// over rounds of the per-round ratio).
//
// Servers run on CPU 1 and wrk on CPU 0 (taskset), so that neither steals
// the other's core; --no-pin turns that off.
//
// --quick: 1 round of 2 s; the default is 5 rounds of 3 s (about 13 minutes
// for the three runtimes): on a shared machine, more and shorter rounds
// give a steadier median. --write rewrites BENCHMARKS.md (then formatted
// with deno fmt).
const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const SERVER = `${ROOT}scripts/_bench_server.ts`;
const RUNTIMES = ["deno", "bun", "node"] as const;
type Runtime = typeof RUNTIMES[number];
type Mode =
  | "raw"
  | "raw-bytes"
  | "wsgi"
  | "raw-stream"
  | "wsgi-stream"
  | "wsgi-file"
  | "wsgi-file-copy";
type Workload = "hello" | "stream" | "file";
type HeaderSet = "host" | "browser";

// The issue's targets: wsgi's CPU per request as a multiple of the raw
// server's, with browser headers for "hello", and with either for the stream.
const TARGETS: Record<"hello" | "stream", Record<Runtime, number> | number> = {
  hello: { deno: 1.30, bun: 1.20, node: 1.15 },
  stream: 1.05,
};

/** What is measured against what: the first mode is each group's baseline. */
interface Group {
  workload: Workload;
  modes: Mode[];
  headers: HeaderSet[];
  /** wrk's connections; null: the configured number. */
  connections: number | null;
}
const GROUPS: Group[] = [
  {
    workload: "hello",
    modes: ["raw", "raw-bytes", "wsgi"],
    headers: ["host", "browser"],
    connections: null,
  },
  {
    workload: "stream",
    modes: ["raw-stream", "wsgi-stream"],
    headers: ["host", "browser"],
    connections: null,
  },
  // 100 MiB a response: a few connections keep the loopback busy.
  {
    workload: "file",
    modes: ["wsgi-file", "wsgi-file-copy"],
    headers: ["host"],
    connections: 2,
  },
];
const FILE_SIZE = 100 * 1024 * 1024;
const CASE_NAMES: Record<Mode, string> = {
  "raw": "raw hello",
  "raw-bytes": "raw bytes (floor)",
  "wsgi": "wsgi hello",
  "raw-stream": "raw 1 MiB stream",
  "wsgi-stream": "wsgi 1 MiB stream",
  "wsgi-file": "wsgi 100 MiB file, as is",
  "wsgi-file-copy": "wsgi 100 MiB file, copied",
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
  rounds: number;
  duration: number;
  warmup: number;
  threads: number;
  connections: number;
  write: boolean;
  quick: boolean;
  pin: boolean;
}

function usage(message: string): never {
  console.error(`bench: ${message}`);
  console.error(
    "usage: deno run -A scripts/bench.ts [--quick] [--write] [--no-pin] [--runtime deno,bun,node] [--rounds N] [--duration S] [--connections C]",
  );
  Deno.exit(2);
}

function parseArgs(args: string[]): Config {
  const config: Config = {
    runtimes: [...RUNTIMES],
    rounds: 5,
    duration: 3,
    warmup: 1,
    threads: 1,
    connections: 32,
    write: false,
    quick: false,
    pin: true,
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
      default:
        usage(`unknown argument ${JSON.stringify(args[i])}`);
    }
  }
  if (config.quick) {
    config.rounds = 1;
    config.duration = 2;
  }
  if (rounds !== null) config.rounds = rounds;
  if (duration !== null) config.duration = duration;
  return config;
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

// --- servers ---------------------------------------------------------------

interface Server {
  mode: Mode;
  pid: number;
  port: number;
  child: Deno.ChildProcess;
  stderr: () => string;
}

/** Drains a stream into a bounded tail, for error messages. */
function tail(stream: ReadableStream<Uint8Array>): () => string {
  let text = "";
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      text = (text + dec.decode(chunk, { stream: true })).slice(-4000);
    }
  })().catch(() => {});
  return () => text;
}

async function startServer(
  config: Config,
  runtime: Runtime,
  mode: Mode,
  file: string,
): Promise<Server> {
  const args = runtime === "deno"
    ? ["run", "-A", SERVER, mode, "0", file]
    : [SERVER, mode, "0", file];
  // taskset execs the runtime: the pid stays the server's.
  const child = new Deno.Command(config.pin ? "taskset" : BIN + runtime, {
    args: config.pin ? ["-c", "1", BIN + runtime, ...args] : args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = tail(child.stderr);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += value;
      const m = /^PORT (\d+)$/m.exec(seen);
      if (m) {
        // Keep draining stdout so that the child never blocks on it.
        (async () => {
          for (;;) if ((await reader.read()).done) return;
        })().catch(() => {});
        return { mode, pid: child.pid, port: Number(m[1]), child, stderr };
      }
    }
  } finally {
    clearTimeout(timeout);
  }
  throw new Error(
    `The ${runtime} server for ${
      JSON.stringify(mode)
    } exited before listening:\n${seen}${stderr()}`,
  );
}

async function stopServer(server: Server): Promise<void> {
  const kill = (signal: Deno.Signal): void => {
    try {
      server.child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), 3000);
  await server.child.status;
  clearTimeout(timer);
}

/** utime + stime of a process, in seconds (/proc/<pid>/stat, fields 14-15). */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces: split after its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

let CLK_TCK = 100;

/** Checks that a server answers what it should before timing it. */
async function check(server: Server, runtime: Runtime): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${server.port}/`);
  const body = new Uint8Array(await response.arrayBuffer());
  const want = server.mode.endsWith("-stream")
    ? 1024 * 1024
    : server.mode.startsWith("wsgi-file")
    ? FILE_SIZE
    : server.mode === "raw"
    ? "Hello world!".length
    : new TextEncoder().encode("¡Hola, mundo!").length;
  if (response.status !== 200 || body.length !== want) {
    throw new Error(
      `The ${runtime} ${server.mode} server answered ${response.status} with ${body.length} bytes, expected 200 with ${want}`,
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
  runtime: Runtime;
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

async function benchRuntime(
  config: Config,
  runtime: Runtime,
  script: string,
  file: string,
  progress: (line: string) => void,
): Promise<Row[]> {
  const servers = new Map<Mode, Server>();
  const rows: Row[] = [];
  try {
    for (const group of GROUPS) {
      for (const mode of group.modes) {
        const server = await startServer(config, runtime, mode, file);
        servers.set(mode, server);
        await check(server, runtime);
      }
    }
    for (const group of GROUPS) {
      const connections = group.connections ?? config.connections;
      for (const headers of group.headers) {
        const lua = headers === "browser" ? script : null;
        const groupRows = group.modes.map((mode, i): Row => ({
          runtime,
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
              config,
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
            `${runtime} ${group.workload} ${headers} round ${round}/${config.rounds}: ${
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

function targetOf(row: Row): number | null {
  if (row.baseline || row.mode === "raw-bytes") return null;
  if (row.workload === "stream") return TARGETS.stream as number;
  if (row.workload !== "hello" || row.headers !== "browser") return null;
  return (TARGETS.hello as Record<Runtime, number>)[row.runtime];
}

function table(rows: Row[], rounds: number): string {
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
  const range = (values: number[]): string =>
    rounds > 1
      ? ` (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
      : "";
  for (const row of rows) {
    const target = targetOf(row);
    const cpuRatio = median(row.cpuRatios);
    const errors = row.samples.reduce((a, s) => a + s.errors, 0);
    const mib = median(row.samples.map((s) => s.bytesPerSecond)) / 1024 ** 2;
    lines.push(
      `| ${
        [
          row.runtime,
          `${CASE_NAMES[row.mode]}${errors ? ` ⚠ ${errors} errors` : ""}`,
          row.headers === "host" ? "Host only" : "browser (9)",
          median(row.samples.map((s) => s.rps)).toFixed(0),
          mib >= 10 ? mib.toFixed(0) : mib.toFixed(1),
          row.baseline
            ? "1.00"
            : median(row.rpsRatios).toFixed(2) + range(row.rpsRatios),
          median(row.samples.map((s) => s.cpuPerReq)).toFixed(1),
          row.baseline ? "1.00" : cpuRatio.toFixed(2) + range(row.cpuRatios),
          target === null ? "—" : `≤ ${target.toFixed(2)}`,
          target === null ? "—" : cpuRatio <= target ? "yes" : "**no**",
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

interface Host {
  cores: string;
  cpu: string;
  /** 1-minute load averages before and after the run. */
  load: [string, string];
}

async function machine(loadBefore: string): Promise<Host> {
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
  versions: string[],
  host: Host,
  command: string,
): string {
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return `# Benchmarks

<!-- Generated by \`${command}\`; do not edit by hand. -->

How much does serving a WSGI application through \`makeServer()\` cost,
compared with the runtime's own HTTP server doing the same work?

${table(rows, config.rounds)}

**Reading it.** Each runtime's own server (\`Deno.serve\`, \`Bun.serve\`,
\`node:http\`) is the baseline, "raw". *hello*: raw answers "Hello world!";
wsgi is \`makeServer()\` (\`log: false\`) serving the tutorial's app
(\`startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]])\`,
\`return [new TextEncoder().encode("¡Hola, mundo!")]\`). *raw bytes
(floor)* is the runtime's own server doing only what any server of an app
that answers bytes must do: read the request's URL and method, and send the
tutorial's bytes, encoded per request, as the app does; the gap between it
and raw hello is not WSGI's, the gap between it and wsgi hello is. *1 MiB
stream*: 16 chunks of 64 KiB, from a generator for wsgi, from a pull-based
\`ReadableStream\` (Deno, Bun) or \`res.write()\` with backpressure (Node) for
raw; both chunked. *100 MiB file*: an app returning
\`environ["wsgi.file_wrapper"](file, 65536)\` over the runtime's own file
object (Deno: a file's \`readable\` stream; Bun: \`Bun.file()\`; Node:
\`fs.openAsBlob()\`): *as is*, the core hands the file to the runtime's
\`Response\` (on Node, streams it to the socket); *copied*, the same wrapper
is iterated by an async generator, so the core copies it block by block; its
ratios are over *as is*. *Host only*: wrk's bare request; *browser (9)*: Host
plus Accept, Accept-Encoding, Accept-Language, User-Agent, Cookie,
Cache-Control, Referer and X-Requested-With, set by a wrk Lua script. The
apps read no header.

**Where the time goes.** Profiles (V8's \`--prof\` on Deno, \`--cpu-prof\`
on Node and Bun) and one-change-at-a-time servers showed, for hello: on Deno,
most of the gap is under the floor row, not in WSGI: a \`Uint8Array\` body
costs Deno a copy and an off-heap allocation (about 0.5 µs more than a
string body), the app's own \`TextEncoder.encode\` another allocation
(0.35 µs), and reading \`request.url\` about 5% of a request; touching
\`request.headers\` would cost 6% more (Deno then copies every header when
the response ends) and \`info.remoteAddr\` 8%, which is why the environ
asks for them only when the app reads a key made from them. Any header
beyond Content-Type also moves Deno off its fast path for a 200 (3 µs), so
the Content-Length of a body known whole is left to the runtime. What is
left of WSGI itself (environ, \`startResponse\` checks, the response) is
0.1–0.4 µs a request on each runtime, answered synchronously, without a
Promise. On Node the environ is built straight from \`IncomingMessage\`; no
Web \`Request\` or \`Response\` is made. For the 1 MiB stream, kernel time
(copying to the socket) is 75–90% of the CPU, and its variance between runs
is larger than the whole difference between raw and wsgi.

**Method.** One load generator for all, wrk
(\`-t${config.threads} -c${config.connections}\`, 2 connections for the file),
on 127.0.0.1${
    config.pin ? "; the server runs on CPU 1 and wrk on CPU 0 (taskset)" : ""
  }. Every server is a child process of its own
(\`scripts/_bench_server.ts\`). Runs are interleaved within each group (raw,
floor, wsgi), ${config.rounds} round${
    config.rounds > 1 ? "s" : ""
  } of ${config.duration} s each, each run after a ${config.warmup} s warm-up
run. *CPU µs/req* is the server process's utime + stime (\`/proc/<pid>/stat\`,
all its threads) over the measured run, divided by the requests wrk
completed. With ${host.cores} cores, wrk often saturates before the server
does, so req/s understates the server's own cost: CPU per request is the
figure the targets apply to. Ratios are over the group's first row within the
same round; the table shows their median${
    config.rounds > 1 ? " and, in brackets, their range" : ""
  }; req/s, MiB/s and µs/req are medians. *target*: the issue's ceilings for
the CPU ratio (browser headers: Deno 1.30, Bun 1.20, Node 1.15; 1 MiB stream:
1.05 everywhere). This machine is a shared virtual one: the same run repeated
moves single figures by 5–15%, so read the ranges.

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
  let runs = 0;
  for (const group of GROUPS) {
    runs += group.modes.length * group.headers.length;
  }
  const estimate = config.runtimes.length * runs * config.rounds *
    (config.duration + config.warmup + 0.3);
  console.error(
    `bench: ${
      config.runtimes.join(", ")
    }; ${config.rounds} round(s) of ${config.duration} s; wrk -t${config.threads} -c${config.connections}${
      config.pin ? "; pinned" : ""
    }; about ${Math.ceil(estimate / 60)} min`,
  );
  const dir = await Deno.makeTempDir({ prefix: "wsgi-bench-" });
  const script = `${dir}/browser.lua`;
  const file = `${dir}/100MiB.bin`;
  const rows: Row[] = [];
  try {
    await Deno.writeTextFile(script, luaScript());
    await writeFile(file, FILE_SIZE);
    for (const runtime of config.runtimes) {
      rows.push(
        ...await benchRuntime(
          config,
          runtime,
          script,
          file,
          (line: string) => console.error(`  ${line}`),
        ),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  console.log(table(rows, config.rounds));
  if (config.write) {
    const versions = [
      ...await Promise.all(config.runtimes.map(versionOf)),
      wrkVersion,
    ];
    const text = markdown(
      config,
      rows,
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
    console.error("bench: wrote BENCHMARKS.md");
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

await main();
