// Soak: does the server's memory stay flat under a long, plain load?
//
//   deno run -A scripts/soak.ts [--runtime deno|bun|node[,...]]
//     [--keepalive N] [--connections N] [--posts N] [--concurrency C]
//     [--rounds R] [--phase-seconds S] [--write]
//
// For each runtime it starts scripts/_soak_server.ts in a child process
// (makeServer serving a small app, log off), then runs three phases on
// 127.0.0.1, in R rounds (default 4) that each do 1/R of every count, and
// stops the child by its pid:
//
//   keep-alive   N GETs (default 100,000) over C keep-alive connections
//   connections  N GETs (default 20,000), each on a new connection
//                ("Connection: close"), C at a time
//   posts        N POSTs (default 10,000) of a 64 KiB body over C keep-alive
//                connections; the app answers the length and byte sum it
//                read, which the client checks
//
// Every phase is bounded in time (--phase-seconds in all, default 300,
// shared by its rounds): a phase that runs out of time stops and says how
// far it got. The server's RSS (VmRSS in /proc/PID/status) is sampled every
// second and at the end of each round (no forced garbage collection, so a
// single sample is noisy). The verdict compares peaks: the highest RSS at
// the end of a round in the second half of the rounds against the highest
// in the first half: "flat" when within 10% (or 16 MiB), else "grows". The
// RSS at the end of the first quarter and at the end are printed too.
// --write puts the figures in BENCHMARKS.md's "Soak" section (replacing the
// previous one).
import { portLine } from "./_port_line.ts";

type Runtime = "deno" | "bun" | "node";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
const SERVER = `${ROOT}scripts/_soak_server.ts`;

interface Config {
  runtimes: Runtime[];
  keepalive: number;
  connections: number;
  posts: number;
  concurrency: number;
  rounds: number;
  phaseSeconds: number;
  write: boolean;
}

function parseArgs(args: string[]): Config {
  const config: Config = {
    runtimes: ["deno", "bun", "node"],
    keepalive: 100_000,
    connections: 20_000,
    posts: 10_000,
    concurrency: 16,
    rounds: 4,
    phaseSeconds: 300,
    write: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const num = () => {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 0) {
        throw new Error(`${arg} wants a whole number, got ${args[i]}`);
      }
      return n;
    };
    switch (arg) {
      case "--runtime":
        config.runtimes = args[++i].split(",") as Runtime[];
        for (const r of config.runtimes) {
          if (!["deno", "bun", "node"].includes(r)) {
            throw new Error(`--runtime: unknown runtime ${JSON.stringify(r)}`);
          }
        }
        break;
      case "--keepalive":
        config.keepalive = num();
        break;
      case "--connections":
        config.connections = num();
        break;
      case "--posts":
        config.posts = num();
        break;
      case "--concurrency":
        config.concurrency = Math.max(1, num());
        break;
      case "--rounds":
        config.rounds = Math.max(1, num());
        break;
      case "--phase-seconds":
        config.phaseSeconds = Math.max(1, num());
        break;
      case "--write":
        config.write = true;
        break;
      default:
        throw new Error(
          `unknown argument ${JSON.stringify(arg)}; usage: deno run -A ` +
            "scripts/soak.ts [--runtime deno|bun|node] [--keepalive N] " +
            "[--connections N] [--posts N] [--concurrency C] " +
            "[--rounds R] [--phase-seconds S] [--write]",
        );
    }
  }
  return config;
}

// --- the server child -------------------------------------------------------

interface Server {
  pid: number;
  port: number;
  child: Deno.ChildProcess;
}

async function startServer(runtime: Runtime): Promise<Server> {
  const args = runtime === "deno" ? ["run", "-A", SERVER] : [SERVER];
  const child = new Deno.Command(BIN + runtime, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const port = await portLine(child, /^PORT (\d+)$/m, `the ${runtime} server`);
  return { pid: child.pid, port, child };
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

/** The process's resident set, in KiB (VmRSS in /proc/PID/status). */
function rssKiB(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// --- a raw HTTP/1.1 client --------------------------------------------------

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One connection that reads Content-Length-framed responses. */
class Conn {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #scratch = new Uint8Array(64 * 1024);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async open(port: number): Promise<Conn> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new Conn(conn);
  }

  async write(data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.length) at += await this.#conn.write(data.subarray(at));
  }

  async #fill(): Promise<boolean> {
    const n = await this.#conn.read(this.#scratch);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#scratch.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  #headEnd(): number {
    const b = this.#buf;
    for (let i = 3; i < b.length; i++) {
      if (
        b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13
      ) return i + 1;
    }
    return -1;
  }

  /** Reads one response; its status and body text. */
  async response(): Promise<{ status: number; body: string }> {
    let end;
    while ((end = this.#headEnd()) === -1) {
      if (!await this.#fill()) throw new Error("closed before a response");
    }
    const head = dec.decode(this.#buf.subarray(0, end));
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m) throw new Error(`no Content-Length: ${JSON.stringify(head)}`);
    const length = Number(m[1]);
    while (this.#buf.length < end + length) {
      if (!await this.#fill()) throw new Error("closed inside a body");
    }
    const body = dec.decode(this.#buf.subarray(end, end + length));
    this.#buf = this.#buf.slice(end + length);
    return { status, body };
  }

  /** Waits for the server to close (after "Connection: close"). */
  async drainToEnd(): Promise<void> {
    while (await this.#fill()) {
      // Nothing more is expected; keep reading until EOF.
    }
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

// --- the phases ---------------------------------------------------------------

interface PhaseResult {
  name: string;
  wanted: number;
  done: number;
  errors: number;
  seconds: number;
  firstError: string;
}

/**
 * Runs `total` operations with `workers` workers until done or `deadline`;
 * `worker(next)` loops while `next()` hands out an index.
 */
async function phase(
  name: string,
  total: number,
  workers: number,
  seconds: number,
  worker: (next: () => boolean, fail: (e: unknown) => void) => Promise<void>,
): Promise<PhaseResult> {
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let issued = 0;
  let errors = 0;
  let firstError = "";
  const next = () => {
    if (issued >= total || performance.now() > deadline) return false;
    issued++;
    return true;
  };
  const fail = (e: unknown) => {
    errors++;
    firstError ||= String(e);
  };
  await Promise.all(
    Array.from({ length: workers }, () => worker(next, fail).catch(fail)),
  );
  return {
    name,
    wanted: total,
    done: issued - errors,
    errors,
    seconds: (performance.now() - t0) / 1000,
    firstError,
  };
}

const GET = enc.encode("GET /soak HTTP/1.1\r\nHost: soak\r\n\r\n");
const GET_CLOSE = enc.encode(
  "GET /soak HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n",
);
const POST_BODY = new Uint8Array(64 * 1024).map((_, i) => (i * 7) & 0xff);
const POST_SUM = POST_BODY.reduce((a, b) => (a + b) & 0xff, 0);
const POST = (() => {
  const head = enc.encode(
    "POST /soak HTTP/1.1\r\nHost: soak\r\nContent-Type: " +
      `application/octet-stream\r\nContent-Length: ${POST_BODY.length}\r\n\r\n`,
  );
  const out = new Uint8Array(head.length + POST_BODY.length);
  out.set(head);
  out.set(POST_BODY, head.length);
  return out;
})();

async function keepAlivePhase(
  name: string,
  port: number,
  request: Uint8Array,
  expect: string,
  config: Config,
  total: number,
): Promise<PhaseResult> {
  return await phase(
    name,
    total,
    config.concurrency,
    config.phaseSeconds / config.rounds,
    async (next, fail) => {
      let conn = await Conn.open(port);
      try {
        while (next()) {
          try {
            await conn.write(request);
            const { status, body } = await conn.response();
            if (status !== 200 || body !== expect) {
              fail(`${status} ${JSON.stringify(body)}`);
            }
          } catch (error) {
            fail(error);
            conn.close();
            conn = await Conn.open(port);
          }
        }
      } finally {
        conn.close();
      }
    },
  );
}

async function newConnectionPhase(
  port: number,
  config: Config,
  total: number,
): Promise<PhaseResult> {
  return await phase(
    "connections",
    total,
    config.concurrency,
    config.phaseSeconds / config.rounds,
    async (next, fail) => {
      while (next()) {
        let conn: Conn | null = null;
        try {
          conn = await Conn.open(port);
          await conn.write(GET_CLOSE);
          const { status, body } = await conn.response();
          if (status !== 200 || body !== "ok /soak") {
            fail(`${status} ${JSON.stringify(body)}`);
          }
          await conn.drainToEnd();
        } catch (error) {
          fail(error);
        } finally {
          conn?.close();
        }
      }
    },
  );
}

// --- one runtime --------------------------------------------------------------

interface Sample {
  t: number;
  phase: string;
  rss: number;
}

interface RunResult {
  runtime: Runtime;
  version: string;
  /** Per phase, summed over the rounds. */
  phases: PhaseResult[];
  /** The RSS at the end of each round, KiB. */
  roundEnds: number[];
  samples: Sample[];
  start: number;
  at25: number;
  end: number;
  max: number;
  /** The highest RSS at a round's end in the first and second halves. */
  peak1: number;
  peak2: number;
  verdict: Verdict;
}

/**
 * "flat": the peak RSS of the second half of the rounds is within 10% (or
 * 16 MiB) of the first half's peak; "grows" otherwise.
 */
type Verdict = "flat" | "grows";

async function versionOf(runtime: Runtime): Promise<string> {
  const out = await new Deno.Command(BIN + runtime, {
    args: ["--version"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = dec.decode(out.stdout).trim().split("\n")[0];
  return runtime === "deno" ? text : `${runtime} ${text}`;
}

async function runOne(runtime: Runtime, config: Config): Promise<RunResult> {
  const version = await versionOf(runtime);
  const server = await startServer(runtime);
  const samples: Sample[] = [];
  let current = "idle";
  const t0 = performance.now();
  const sample = () => {
    const rss = rssKiB(server.pid);
    if (rss !== null) {
      samples.push({ t: (performance.now() - t0) / 1000, phase: current, rss });
    }
  };
  sample();
  const timer = setInterval(sample, 1000);
  const phases: PhaseResult[] = [];
  const roundEnds: number[] = [];
  try {
    const run = async (name: string, fn: () => Promise<PhaseResult>) => {
      current = name;
      const result = await fn();
      phases.push(result);
      console.error(
        `soak ${runtime} round ${round}: ${name}: ${result.done}/${result.wanted} in ${
          result.seconds.toFixed(1)
        } s, ${result.errors} errors${
          result.firstError ? ` (first: ${result.firstError})` : ""
        }`,
      );
    };
    // Each round does its share of every count; the remainder goes to the
    // last round, so the totals are exactly what was asked.
    const share = (total: number, r: number) =>
      Math.floor(total / config.rounds) +
      (r === config.rounds ? total % config.rounds : 0);
    let round = 0;
    for (round = 1; round <= config.rounds; round++) {
      const r = round;
      await run(
        "keep-alive",
        () =>
          keepAlivePhase(
            "keep-alive",
            server.port,
            GET,
            "ok /soak",
            config,
            share(config.keepalive, r),
          ),
      );
      await run(
        "connections",
        () =>
          newConnectionPhase(server.port, config, share(config.connections, r)),
      );
      await run(
        "posts",
        () =>
          keepAlivePhase(
            "posts",
            server.port,
            POST,
            `${POST_BODY.length} ${POST_SUM}`,
            config,
            share(config.posts, r),
          ),
      );
      current = `end of round ${r}`;
      sample();
      roundEnds.push(samples[samples.length - 1].rss);
    }
  } finally {
    clearInterval(timer);
    await stopServer(server);
  }
  const start = samples[0].rss;
  const at25 = roundEnds[Math.max(0, Math.ceil(roundEnds.length / 4) - 1)];
  const end = roundEnds[roundEnds.length - 1];
  const max = Math.max(...samples.map((s) => s.rss));
  const mid = Math.ceil(roundEnds.length / 2);
  const peak1 = Math.max(...roundEnds.slice(0, mid));
  const peak2 = Math.max(...roundEnds.slice(mid), 0);
  const verdict: Verdict = peak2 <= Math.max(peak1 * 1.1, peak1 + 16 * 1024)
    ? "flat"
    : "grows";
  const totals = ["keep-alive", "connections", "posts"].map((name) => {
    const mine = phases.filter((p) => p.name === name);
    return {
      name,
      wanted: mine.reduce((a, p) => a + p.wanted, 0),
      done: mine.reduce((a, p) => a + p.done, 0),
      errors: mine.reduce((a, p) => a + p.errors, 0),
      seconds: mine.reduce((a, p) => a + p.seconds, 0),
      firstError: mine.find((p) => p.firstError)?.firstError ?? "",
    };
  });
  return {
    runtime,
    version,
    phases: totals,
    roundEnds,
    samples,
    start,
    at25,
    end,
    max,
    peak1,
    peak2,
    verdict,
  };
}

// --- output -------------------------------------------------------------------

const mib = (kib: number): string => (kib / 1024).toFixed(1);

function summary(results: RunResult[]): string {
  const lines = [
    "| runtime | phase | requests | errors | seconds | req/s |",
    "| ------- | ----- | -------: | -----: | ------: | ----: |",
  ];
  for (const r of results) {
    for (const p of r.phases) {
      lines.push(
        `| ${r.runtime} | ${p.name} | ${p.done}${
          p.done + p.errors < p.wanted ? ` of ${p.wanted} (time limit)` : ""
        } | ${p.errors} | ${p.seconds.toFixed(1)} | ${
          Math.round(p.done / p.seconds)
        } |`,
      );
    }
  }
  lines.push(
    "",
    "| runtime | RSS idle (MiB) | after each round (MiB) | 25% → end | peak, 1st half → 2nd half | verdict |",
    "| ------- | -------------: | ---------------------- | --------- | ------------------------- | ------- |",
  );
  for (const r of results) {
    lines.push(
      `| ${r.runtime} | ${mib(r.start)} | ${
        r.roundEnds.map(mib).join(", ")
      } | ${mib(r.at25)} → ${mib(r.end)} | ${mib(r.peak1)} → ${
        mib(r.peak2)
      } | ${r.verdict === "grows" ? "**grows**" : r.verdict} |`,
    );
  }
  return lines.join("\n");
}

/** RSS at the start and at the end of each round. */
function timeline(r: RunResult): string {
  const rows = r.samples
    .filter((s, i) => i === 0 || s.phase.startsWith("end of round"))
    .map((s) =>
      `${s.t.toFixed(0).padStart(5)} s  ${s.phase.padEnd(16)} ${
        mib(s.rss).padStart(7)
      } MiB`
    );
  return `${r.runtime} (${r.samples.length} samples):\n${rows.join("\n")}`;
}

function section(results: RunResult[], config: Config, command: string) {
  return `## Soak

<!-- Generated by \`${command}\`; do not edit by hand. -->

Does the server's memory stay flat under a long plain load? One server
process per runtime (\`scripts/_soak_server.ts\`: \`makeServer()\`, access log
off, an app that answers GET with a short body and POST with the length and
byte sum of what it read from \`wsgi.input\`), driven from a Deno client over
raw TCP on 127.0.0.1 by \`scripts/soak.ts\`.

${summary(results)}

**Method.** ${config.rounds} rounds, each doing its share (1/${config.rounds})
of every phase, in order: _keep-alive_, ${config.keepalive} GETs in all over
${config.concurrency} keep-alive connections; _connections_,
${config.connections} GETs each on a new connection (\`Connection: close\`),
${config.concurrency} at a time; _posts_, ${config.posts} POSTs of a 64 KiB
body over ${config.concurrency} keep-alive connections, each answer checked
against the body's length and byte sum. Each phase is bounded to
${config.phaseSeconds} s in all. The server's RSS (\`VmRSS\`, \`/proc/PID/status\`)
is sampled every second and at the end of each round, with no forced garbage
collection, so one sample says little: the verdict compares peaks, the highest
RSS at the end of a round in the second half of the run against the highest in
the first half: "flat" when it is within 10% (or 16 MiB), else "grows". The
RSS at the end of the first quarter of the rounds and at the end are shown too.
The machine is a shared 2-core virtual one, so the req/s are not a speed measurement: see the
tables above for that.

- Date: ${new Date().toISOString().slice(0, 19)}Z
- ${results.map((r) => r.version).join("; ")}
`;
}

// --- main -----------------------------------------------------------------------

if (import.meta.main) {
  const config = parseArgs(Deno.args);
  const results: RunResult[] = [];
  for (const runtime of config.runtimes) {
    const result = await runOne(runtime, config);
    results.push(result);
    console.log(timeline(result));
  }
  console.log(summary(results));
  if (config.write) {
    const command = `deno run -A scripts/soak.ts ${Deno.args.join(" ")}`
      .trim();
    const path = `${ROOT}BENCHMARKS.md`;
    const old = await Deno.readTextFile(path);
    const at = old.indexOf("\n## Soak\n");
    const kept = at === -1 ? old.trimEnd() : old.slice(0, at).trimEnd();
    await Deno.writeTextFile(
      path,
      `${kept}\n\n${section(results, config, command)}`,
    );
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path] })
      .output();
    console.error("soak: wrote the Soak section of BENCHMARKS.md");
  }
  if (
    !results.every((r) =>
      r.verdict !== "grows" && r.phases.every((p) => p.errors === 0)
    )
  ) {
    Deno.exitCode = 1;
  }
}
