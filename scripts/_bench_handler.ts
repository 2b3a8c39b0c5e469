// In-process timing of one request's JavaScript path on Deno or Bun:
//
//   <runtime> scripts/_bench_handler.ts [iterations] [runs]
//
// makeServer's fetch handler (`log: false`), taken from the runtime's own
// serve() as it is bound, is called with one prebuilt GET carrying a
// browser's nine headers, `iterations` times (200,000 by default); so is
// the raw WSGI floor's handler (a plain environ, a start_response that
// keeps what it is given, no check: scripts/_bench_server.ts raw-wsgi).
// Runs alternate; each line gives µs per request, and the median of
// `runs` (7) per handler and their difference closes the output. No
// socket is written: this is the JS path only, what wire runs cannot
// resolve below 0.2 µs.
import { makeServer } from "../mod.ts";
import { helloApp, minimalHandler as floor } from "./_bench_floor.ts";

type Handler = (request: Request, context: unknown) => Response;
type Serve = (...args: unknown[]) => unknown;
const g = globalThis as unknown as {
  Deno?: { serve: Serve; args: string[] };
  Bun?: { serve: Serve };
  process?: { argv: string[] };
};

/** makeServer's handler and the context its runtime passes, captured. */
async function captured(): Promise<[Handler, unknown, () => Promise<void>]> {
  let handler: Handler | null = null;
  let context: unknown = null;
  const runtime = g.Deno ?? g.Bun!;
  const serve = runtime.serve;
  runtime.serve = function (this: unknown, ...args: unknown[]) {
    const server = serve.apply(this, args);
    if (g.Deno) {
      handler = args[1] as Handler;
      context = { remoteAddr: { hostname: "127.0.0.1", port: 40000 } };
    } else {
      handler = (args[0] as { fetch: Handler }).fetch;
      context = server;
    }
    return server;
  };
  const server = makeServer("127.0.0.1", 0, helloApp, { log: false });
  await server.ready;
  runtime.serve = serve;
  return [handler!, context, () => server.shutdown()];
}

const BROWSER: [string, string][] = [
  ["Host", "127.0.0.1:8000"],
  ["Accept", "text/html,application/xhtml+xml,*/*;q=0.8"],
  ["Accept-Encoding", "gzip, deflate, br"],
  ["Accept-Language", "en-US,en;q=0.9"],
  ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"],
  ["Cookie", "session=abc123; theme=dark"],
  ["Cache-Control", "max-age=0"],
  ["Referer", "http://127.0.0.1:8000/"],
  ["X-Requested-With", "XMLHttpRequest"],
];

function time(handler: Handler, context: unknown, request: Request, n: number) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) handler(request, context);
  return (performance.now() - t0) * 1000 / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const argv = g.Deno ? g.Deno.args : g.process!.argv.slice(2);
const n = Number(argv[0] ?? 200_000);
const runs = Number(argv[1] ?? 7);
const [wsgi, context, stop] = await captured();
const request = new Request("http://127.0.0.1:8000/", { headers: BROWSER });
const w: number[] = [];
const f: number[] = [];
time(wsgi, context, request, n / 4); // warm-up
time(floor, context, request, n / 4);
for (let r = 0; r < runs; r++) {
  w.push(time(wsgi, context, request, n));
  f.push(time(floor, context, request, n));
  console.log(
    `run ${r}: wsgi ${w[r].toFixed(3)} µs, floor ${f[r].toFixed(3)} µs`,
  );
}
const mw = median(w);
const mf = median(f);
console.log(
  `median: wsgi ${mw.toFixed(3)} µs, raw WSGI floor ${mf.toFixed(3)} µs, ` +
    `difference ${(mw - mf).toFixed(3)} µs`,
);
await stop();
