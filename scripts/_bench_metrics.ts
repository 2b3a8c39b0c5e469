// What makeServer's `metrics` option costs a request, on deno, bun and node:
//
//   deno run -A scripts/bench.ts --metrics [--rounds N] [--duration S]
//   deno run -A scripts/_bench_metrics.ts [--rounds N] [--duration S]
//
// Two figures per runtime:
// - micro: ServerMetrics.begin() + end() for one request, in a loop of a
//   million, in ns (what the shims add, without the network);
// - end to end: makeServer() with `log: false` serving the tutorial's hello
//   app with metrics off and on, loaded by wrk (one connection per thread,
//   keep-alive), interleaved off, on, off, on... in one run; the server's
//   CPU time (/proc/<pid>/stat utime + stime) per request completed, and
//   the median over rounds of on minus off. The server runs on CPU 1 and
//   wrk on CPU 0 (taskset).
// Internally, `<runtime> scripts/_bench_metrics.ts serve on|off` is one
// server (prints "PORT <n>"), and `... micro` prints the micro figure.
import { makeServer, ServerMetrics, type StartResponse } from "../mod.ts";

const g = globalThis as Record<string, unknown>;
const argv: string[] = typeof g.Deno === "object"
  ? (g.Deno as { args: string[] }).args
  : (g.process as { argv: string[] }).argv.slice(2);

function hello(_environ: unknown, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode("¡Hola, mundo!")];
}

/** ns per request: begin() + end(), and two bare clock reads. */
function micro(): [number, number] {
  const metrics = new ServerMetrics();
  const req = { method: "GET", target: "/", start: 0, received: 0 };
  const N = 1_000_000;
  let sink = 0;
  const out: [number, number] = [NaN, NaN];
  for (let round = 0; round < 2; round++) {
    let t0 = performance.now();
    for (let i = 0; i < N; i++) {
      metrics.begin(req);
      metrics.end(req, 200, 13, false);
    }
    const ns = (performance.now() - t0) * 1e6 / N;
    t0 = performance.now();
    for (let i = 0; i < N; i++) sink += performance.now() - performance.now();
    const clock = (performance.now() - t0) * 1e6 / N;
    // The first round warms the JIT.
    if (round === 1) out.splice(0, 2, ns, clock + (sink > 1 ? 0 : 0));
  }
  return out;
}

async function serve(on: boolean): Promise<void> {
  const server = makeServer(
    "127.0.0.1",
    0,
    hello,
    on ? { log: false, metrics: new ServerMetrics() } : { log: false },
  );
  await server.ready;
  console.log(`PORT ${server.serverPort}`);
  await server.serveForever();
}

// ---- the driver (Deno) ----

interface DenoApi {
  args: string[];
  execPath(): string;
  readTextFileSync(path: string): string;
  Command: new (cmd: string, options: Record<string, unknown>) => {
    spawn(): {
      pid: number;
      stdout: ReadableStream<Uint8Array>;
      kill(signal: string): void;
      status: Promise<unknown>;
    };
    output(): Promise<{ stdout: Uint8Array }>;
  };
}

const ROOT = new URL("../", import.meta.url).pathname;
const SELF = `${ROOT}scripts/_bench_metrics.ts`;

function runtimeCmd(runtime: string): string[] {
  const bin = `${ROOT}node_modules/.bin/${runtime}`;
  return runtime === "deno" ? [bin, "run", "-A", SELF] : [bin, SELF];
}

function cpuSeconds(D: DenoApi, pid: number): number {
  const stat = D.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

async function wrk(D: DenoApi, port: number, seconds: number): Promise<number> {
  const out = await new D.Command("taskset", {
    args: [
      "-c",
      "0",
      "wrk",
      "-t1",
      "-c1",
      `-d${seconds}s`,
      `http://127.0.0.1:${port}/`,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
}

/** Runs the comparison; returns the report's lines. */
export async function main(args: string[] = argv): Promise<string[]> {
  const D = g.Deno as DenoApi;
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i === -1 ? dflt : Number(args[i + 1]);
  };
  const rounds = opt("--rounds", 5);
  const seconds = opt("--duration", 2);
  const lines: string[] = [];
  for (const runtime of ["deno", "bun", "node"]) {
    const m = await new D.Command(runtimeCmd(runtime)[0], {
      args: [...runtimeCmd(runtime).slice(1), "micro"],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const [ns, clock] = new TextDecoder().decode(m.stdout).trim().split(" ")
      .map(Number);
    const servers: {
      mode: string;
      child: ReturnType<InstanceType<DenoApi["Command"]>["spawn"]>;
      port: number;
      us: number[];
    }[] = [];
    for (const mode of ["off", "on"]) {
      const cmd = runtimeCmd(runtime);
      const child = new D.Command("taskset", {
        args: ["-c", "1", ...cmd, "serve", mode],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const port = Number((await firstLine(child.stdout)).split(" ")[1]);
      servers.push({ mode, child, port, us: [] as number[] });
    }
    try {
      for (const s of servers) await wrk(D, s.port, 1); // warm-up
      for (let r = 0; r < rounds; r++) {
        for (const s of servers) {
          const before = cpuSeconds(D, s.child.pid);
          const n = await wrk(D, s.port, seconds);
          s.us.push((cpuSeconds(D, s.child.pid) - before) * 1e6 / n);
        }
      }
    } finally {
      for (const s of servers) s.child.kill("SIGKILL");
    }
    const diffs = servers[1].us.map((on, i) => on - servers[0].us[i]).sort((
      a,
      b,
    ) => a - b);
    const median = (xs: number[]) =>
      [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    lines.push(
      `| ${runtime} | ${ns} ns (of which 2 clock reads: ${clock} ns) | ${
        median(servers[0].us).toFixed(2)
      } µs | ${median(servers[1].us).toFixed(2)} µs | ${
        median(diffs).toFixed(2)
      } µs (${diffs[0].toFixed(2)} to ${diffs.at(-1)!.toFixed(2)}) |`,
    );
    console.log(lines.at(-1));
  }
  return lines;
}

if (argv[0] === "micro") {
  console.log(micro().map((n) => n.toFixed(0)).join(" "));
} else if (argv[0] === "serve") await serve(argv[1] === "on");
else if ((import.meta as { main?: boolean }).main) await report(argv);

/** Prints the table (the header, then a row per runtime as measured). */
export async function report(args: string[]): Promise<void> {
  console.log(
    "| runtime | begin+end (micro) | CPU/request, off | on | on − off (median, range) |",
  );
  console.log("|---|---|---|---|---|");
  await main(args);
}
