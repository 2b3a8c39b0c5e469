// One server (or the in-process loop) for scripts/_bench_logs.ts, run by
// deno, bun or node:
//
//   <runtime> scripts/_bench_logs_server.ts MODE
//
// MODE: off (`log: false`), default (wsgiref's line), format (gunicorn's
// default format string plus %(D)s), json (`accessLog: { json: true }`):
// makeServer() on 127.0.0.1, a free port printed as "PORT <n>", serving
// the tutorial's app until killed; the log goes to stderr, which the bench
// sends to a file. MODE "micro": the per-record cost of each access logger
// in this process, interleaved, written to a file batcher (printed as
// "MICRO <mode> <ns>" lines).
import { makeServer, type StartResponse } from "../mod.ts";
import { type AccessLog, accessLogger } from "../src/runtime/_backend.ts";
import { accessLine, LineBatcher } from "../src/core/_access_log.ts";
import type { Outcome } from "../src/core/_outcome.ts";
import type { LoggedFacts } from "../src/core/_log_format.ts";

const g = globalThis as unknown as {
  Deno?: { args: string[] };
  process?: { argv: string[]; stdout: { write(s: string): void } };
};
const argv = g.Deno ? g.Deno.args : g.process!.argv.slice(2);
const mode = argv[0];
const FORMAT =
  '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s';
const hello = new TextEncoder().encode("¡Hola, mundo!");

function app(_environ: unknown, start: StartResponse): Uint8Array[] {
  start("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [hello];
}

const OPTIONS: Record<string, object> = {
  off: { log: false },
  default: {},
  format: { accessLog: { format: FORMAT } },
  json: { accessLog: { json: true } },
};

function print(line: string): void {
  if (g.process) g.process.stdout.write(line + "\n");
  else console.log(line);
}

if (mode === "micro") {
  // The records a server writes for a browser's request; the sink counts
  // bytes (a write per 4 KiB batch, as the servers' own, minus the syscall).
  let sunk = 0;
  const sink = new LineBatcher((_text, bytes) => void (sunk += bytes), 1e9);
  const places = { stderr: () => sink, file: () => sink, pid: 1234 };
  const headers = new Headers({
    host: "127.0.0.1:8000",
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0",
    referer: "http://127.0.0.1:8000/",
    accept: "text/html",
  });
  const facts: LoggedFacts = {
    method: "GET",
    target: "/hello?name=world",
    protocol: "HTTP/1.1",
    headers,
    scheme: "http",
    environ: null,
    start: performance.now(),
    ran: performance.now(),
  };
  const out = {
    code: 200,
    headers: [["Content-Type", "text/plain"]],
    length: 14,
  } as unknown as Outcome;
  // main's default before this change: the line straight to the batcher.
  const mainDefault = (
    f: LoggedFacts,
    o: Outcome,
    peer: string,
    bytes: number | null,
    ok: boolean,
  ) =>
    sink.line(
      accessLine(peer, f.method, f.target, f.protocol!, o.code, bytes, ok),
    );
  const loggers: Record<string, AccessLog | typeof mainDefault> = {
    "main-default": mainDefault,
    default: accessLogger({}, places)!,
    format: accessLogger({ accessLog: { format: FORMAT } }, places)!,
    json: accessLogger({ accessLog: { json: true } }, places)!,
  };
  const N = 200_000;
  const best: Record<string, number[]> = {};
  for (let round = 0; round < 7; round++) {
    for (const [name, log] of Object.entries(loggers)) {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) log(facts, out, "127.0.0.1", 14, true);
      const ns = (performance.now() - t0) * 1e6 / N;
      (best[name] ??= []).push(ns);
    }
  }
  sink.flush();
  for (const [name, list] of Object.entries(best)) {
    list.sort((a, b) => a - b);
    print(`MICRO ${name} ${list[Math.floor(list.length / 2)].toFixed(0)}`);
  }
  if (sunk === 0) throw new Error("nothing written");
} else {
  if (!(mode in OPTIONS)) {
    throw new Error(`unknown mode ${JSON.stringify(mode)}`);
  }
  const server = makeServer("127.0.0.1", 0, app, OPTIONS[mode]);
  await server.ready;
  print(`PORT ${server.serverPort}`);
  await server.serveForever();
}
