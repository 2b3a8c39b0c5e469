// One server (or the in-process loop) for scripts/_bench_logs.ts, run by
// deno, bun or node:
//
//   <runtime> scripts/_bench_logs_server.ts MODE
//
// MODE: off (`log: false`), default (wsgiref's line), format (gunicorn's
// default format string plus %(D)s), json (`accessLog: { json: true }`):
// makeServer() on 127.0.0.1, a free port printed as "PORT <n>", serving
// the tutorial's app until killed; the log goes to stderr, which the bench
// sends to a file; "fmt FORMAT" serves with any format string. It imports
// only mod.ts, so that the bench runs it on the commit this branch started
// from too (main's default line, before the formats).
import { makeServer, type StartResponse } from "../mod.ts";

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

// "fmt FORMAT": any format string, for a closer look at one atom.
if (mode === "fmt") OPTIONS.fmt = { accessLog: { format: argv[1] } };
if (!(mode in OPTIONS)) throw new Error(`unknown mode ${JSON.stringify(mode)}`);
const server = makeServer("127.0.0.1", 0, app, OPTIONS[mode]);
await server.ready;
print(`PORT ${server.serverPort}`);
await server.serveForever();
