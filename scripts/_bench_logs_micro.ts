// The per-record cost of each access logger, in one process, for
// scripts/_bench_logs.ts: main's default line as it was before the formats
// (the line straight to the batcher), today's default, gunicorn's format
// and JSON, interleaved, into a batcher that only counts bytes. Prints
// "MICRO <name> <ns>" lines (the median of 7 rounds of 200000 records).
//
//   <runtime> scripts/_bench_logs_micro.ts
import { type AccessLog, accessLogger } from "../src/runtime/_backend.ts";
import { accessLine, LineBatcher } from "../src/core/_access_log.ts";
import type { Outcome } from "../src/core/_response/outcome.ts";
import type { LoggedFacts } from "../src/core/_log_format.ts";

const FORMAT =
  '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s';

{
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
    console.log(
      `MICRO ${name} ${list[Math.floor(list.length / 2)].toFixed(0)}`,
    );
  }
  if (sunk === 0) throw new Error("nothing written");
}
