// One server for scripts/bench.ts, run by deno, bun or node:
//
//   <runtime> scripts/_bench_server.ts MODE [port] [file]
//
// It binds 127.0.0.1 (port 0, the default, picks a free one), prints
// "PORT <n>" on stdout once it listens, and serves until killed.
//
//   raw             the runtime's own server answering the tutorial's text,
//                   "¡Hola, mundo!", given as a string
//   hono            Hono (a router) answering it with c.text(): on Deno
//                   through Deno.serve, on Bun through Bun.serve, on Node
//                   through srvx's Node adapter (Hono itself has none)
//   hono-log        the same with Hono's logger() middleware, as a Hono
//                   user turns on a log: two lines a request on stdout
//   srvx            srvx's serve() with a fetch handler answering it
//   raw-bytes       the runtime's own server doing what any server of a
//                   bytes-returning app must: it reads the request's URL
//                   and method, and answers the tutorial's encoded bytes
//                   (the floor under "wsgi")
//   raw-wsgi        the runtime's own server doing the least any WSGI
//                   server must: a plain environ, start_response, the app
//                   called, its status and headers answered, no check
//                   (the floor of WSGI itself; see minimalWsgi)
//   raw-bytes-log   raw-bytes, plus what any server writing wsgiref's access
//                   line must do: ask the runtime for the client's address,
//                   format the line (its date made once a second), and
//                   write the lines to stderr in 4 KiB batches (the floor
//                   under "wsgi-log")
//   wsgi            makeServer() serving the tutorial's "¡Hola, mundo!" app,
//                   with `log: false`
//   wsgi-log        the same, with makeServer()'s default access log (one
//                   wsgiref-style line a request on stderr)
//   raw-stream      the runtime's own server sending 1 MiB in 64 KiB chunks
//                   (a ReadableStream on Deno and Bun, res.write() on Node)
//   wsgi-stream     makeServer() serving an app whose generator yields the
//                   same 16 chunks of 64 KiB
//   wsgi-file       makeServer() serving `file` through wsgi.file_wrapper
//                   over the runtime's own file object (Deno: a file's
//                   readable stream; Bun: Bun.file(); Node:
//                   fs.openAsBlob()), which the core hands on as it is
//   wsgi-file-copy  the same wrapper, iterated by an async generator, so
//                   the core copies it block by block (64 KiB)
import {
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts";
import { helloApp, minimalHandler, minimalWsgi } from "./_bench_floor.ts";

const HOST = "127.0.0.1";
const CHUNK_SIZE = 64 * 1024;
const CHUNKS = 16;
// One chunk, shared by every response: both sides send the same bytes and
// neither pays for making them.
const CHUNK = new Uint8Array(CHUNK_SIZE).fill(120); // "x"
const HELLO_TYPE = "text/plain; charset=utf-8";
const STREAM_TYPE = "application/octet-stream";

/** A file through wsgi.file_wrapper: as is, or copied block by block. */
function fileApp(open: () => Promise<unknown>, copy: boolean) {
  return async (environ: WSGIEnvironment, startResponse: StartResponse) => {
    startResponse("200 OK", [["Content-Type", STREAM_TYPE]]);
    const wrap = environ["wsgi.file_wrapper"] as (
      f: unknown,
      blksize: number,
    ) => AsyncIterable<Uint8Array>;
    const wrapper = wrap(await open(), CHUNK_SIZE);
    return copy
      ? (async function* () {
        yield* wrapper;
      })()
      : wrapper;
  };
}

/** Opens `path` as this runtime's own file object. */
async function fileOpener(path: string): Promise<() => Promise<unknown>> {
  if (g.Deno) {
    const deno = g.Deno as unknown as {
      open(path: string): Promise<{ readable: ReadableStream<Uint8Array> }>;
    };
    return async () => (await deno.open(path)).readable;
  }
  if (g.Bun) {
    const bun = g.Bun as unknown as { file(path: string): Blob };
    return () => Promise.resolve(bun.file(path));
  }
  const name = "node:fs";
  const fs = await import(name) as {
    openAsBlob(path: string): Promise<Blob>;
  };
  return () => fs.openAsBlob(path);
}

/** 1 MiB in 64 KiB chunks, from a generator. */
function streamApp(_environ: unknown, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", STREAM_TYPE]]);
  return (function* () {
    for (let i = 0; i < CHUNKS; i++) yield CHUNK;
  })();
}

/** A pull-based stream of the same 16 chunks, for Deno and Bun. */
function chunkStream(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent++ < CHUNKS) c.enqueue(CHUNK);
      else c.close();
    },
  });
}

const HELLO_BYTES = "¡Hola, mundo!";

// The peers, from node_modules by path (dev dependencies of the benchmark
// only): no import map, no npm resolution, the same files on every runtime.
const MODULES = new URL("../node_modules/", import.meta.url).href;

interface SrvxServer {
  ready(): Promise<SrvxServer>;
  url?: string;
}
type SrvxServe = (options: {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  hostname: string;
  silent: boolean;
}) => SrvxServer;

/** srvx's serve() for this runtime (its package's conditional exports). */
async function srvxServe(): Promise<SrvxServe> {
  const adapter = g.Deno ? "deno" : g.Bun ? "bun" : "node";
  const mod = await import(`${MODULES}srvx/dist/adapters/${adapter}.mjs`);
  return mod.serve as SrvxServe;
}

/** Hono's app answering the tutorial's text, as a Hono user writes it. */
async function honoFetch(
  logged: boolean,
): Promise<(request: Request) => Response> {
  const { Hono } = await import(`${MODULES}hono/dist/index.js`);
  const app = new Hono();
  if (logged) {
    const { logger } = await import(
      `${MODULES}hono/dist/middleware/logger/index.js`
    );
    app.use(logger());
  }
  app.get("/", (c: { text(s: string): Response }) => c.text(HELLO_BYTES));
  return app.fetch;
}

/** Serves `fetch` with Hono's usual server on each runtime. */
async function servePeer(
  kind: "hono" | "hono-log" | "srvx",
  port: number,
): Promise<void> {
  const fetch = kind === "srvx"
    ? () =>
      new Response(HELLO_BYTES, { headers: { "content-type": HELLO_TYPE } })
    : await honoFetch(kind === "hono-log");
  if (kind !== "srvx" && g.Deno) {
    g.Deno.serve(
      { hostname: HOST, port, onListen: (addr) => ready(addr.port) },
      fetch,
    );
    return;
  }
  if (kind !== "srvx" && g.Bun) {
    ready(g.Bun.serve({ hostname: HOST, port, fetch }).port);
    return;
  }
  const serve = await srvxServe();
  const server = await serve({ fetch, port, hostname: HOST, silent: true })
    .ready();
  ready(Number(new URL(server.url!).port));
}

/** A handler that does a bytes-returning app's mandatory work. */
function bytesHandler(request: Request): Response {
  void request.url;
  void request.method;
  // No statusText: Deno and Bun send their own reason phrase.
  return new Response(new TextEncoder().encode(HELLO_BYTES), {
    status: 200,
    headers: [["Content-Type", HELLO_TYPE]],
  });
}

// The floor of an access log: a line per request, batched writes.
let pending = "";
let second = -1;
let date = "";
let writeErr: ((text: string) => void) | null = null;

/** A wsgiref-style line for `peer`, written to stderr 4 KiB at a time. */
function logLine(peer: string, method: string, target: string): void {
  const now = Math.floor(Date.now() / 1000);
  if (now !== second) {
    second = now;
    date = new Date(now * 1000).toISOString();
  }
  pending +=
    `${peer} - - [${date}] "${method} ${target} HTTP/1.1" 200 ${HELLO_LENGTH}\n`;
  if (pending.length >= 4096) {
    writeErr!(pending);
    pending = "";
  }
}

const HELLO_LENGTH = new TextEncoder().encode(HELLO_BYTES).length;

/** The target of a URL that Deno or Bun built (the floor's, not Bun's bare form). */
function pathOf(url: string): string {
  return url.slice(url.indexOf("/", url.indexOf("://") + 3));
}

function fetchHandler(
  stream: boolean,
  bytes: boolean,
  minimal = false,
): (request: Request) => Response {
  if (minimal) return minimalHandler;
  if (bytes) return bytesHandler;
  return stream
    ? () =>
      new Response(chunkStream(), {
        headers: { "content-type": STREAM_TYPE },
      })
    : () =>
      new Response(HELLO_BYTES, {
        headers: { "content-type": HELLO_TYPE },
      });
}

function ready(port: number): void {
  console.log(`PORT ${port}`);
}

// The runtime globals, declared here so that no runtime's types are needed.
interface DenoLike {
  args: string[];
  serve(
    options: {
      hostname: string;
      port: number;
      onListen(addr: { port: number }): void;
    },
    handler: (request: Request) => Response,
  ): unknown;
}
interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request): Response;
  }): { port: number };
}
interface NodeResponse {
  writeHead(code: number, headers: Record<string, string | number>): void;
  write(chunk: Uint8Array): boolean;
  end(chunk?: string | Uint8Array): void;
  once(event: "drain", listener: () => void): void;
}
interface NodeRequest {
  url?: string;
  method?: string;
}
interface NodeServer {
  listen(port: number, host: string, callback: () => void): void;
  address(): { port: number };
}
interface NodeHttp {
  createServer(
    listener: (req: NodeRequest, res: NodeResponse) => void,
  ): NodeServer;
}

const g = globalThis as unknown as {
  Deno?: DenoLike;
  Bun?: BunLike;
  process?: { argv: string[] };
};

/** The tutorial's bytes, encoded per request, as node:http's answer. */
function sendBytes(res: NodeResponse): void {
  const body = new TextEncoder().encode(HELLO_BYTES);
  res.writeHead(200, {
    "Content-Type": HELLO_TYPE,
    "Content-Length": body.length,
  });
  res.end(body);
}

async function rawNode(
  port: number,
  stream: boolean,
  bytes: boolean,
  minimal: boolean,
): Promise<void> {
  // A variable specifier: Deno never resolves node:http here.
  const name = "node:http";
  const http = await import(name) as NodeHttp;
  const hello = new TextEncoder().encode(HELLO_BYTES);
  const server = http.createServer(
    minimal
      ? (req, res) => {
        const out = minimalWsgi(req.method ?? "GET", req.url ?? "/");
        const flat: string[] = [];
        for (const [name, value] of out.headers) flat.push(name, value);
        flat.push("Content-Length", String(out.body.length));
        (res as unknown as {
          writeHead(code: number, headers: string[]): void;
        }).writeHead(out.code, flat);
        res.end(out.body);
      }
      : bytes
      ? (req, res) => {
        void req.url;
        void req.method;
        sendBytes(res);
      }
      : stream
      ? (_req, res) => {
        res.writeHead(200, { "Content-Type": STREAM_TYPE });
        let sent = 0;
        // res.write() until the socket pushes back, then wait for "drain".
        const pump = (): void => {
          while (sent < CHUNKS) {
            sent++;
            if (!res.write(CHUNK)) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        pump();
      }
      : (_req, res) => {
        res.writeHead(200, {
          "Content-Type": HELLO_TYPE,
          "Content-Length": hello.length,
        });
        res.end(hello);
      },
  );
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
  ready(server.address().port);
}

/** raw-bytes-log: the floor with wsgiref's access line, on each runtime. */
async function serveLogged(port: number): Promise<void> {
  if (g.Deno) {
    const deno = g.Deno as unknown as DenoLogged;
    const encoder = new TextEncoder();
    writeErr = (text) => void deno.stderr.writeSync(encoder.encode(text));
    deno.serve(
      { hostname: HOST, port, onListen: (addr) => ready(addr.port) },
      (request, info) => {
        logLine(info.remoteAddr.hostname, request.method, pathOf(request.url));
        return bytesHandler(request);
      },
    );
    return;
  }
  const name = "node:fs";
  const fs = await import(name) as {
    writeSync(fd: number, text: string): number;
  };
  writeErr = (text) => void fs.writeSync(2, text);
  if (g.Bun) {
    const bun = g.Bun as unknown as BunLogged;
    const server = bun.serve({
      hostname: HOST,
      port,
      fetch(request, srv) {
        logLine(
          srv.requestIP(request)?.address ?? "",
          request.method,
          pathOf(request.url),
        );
        return bytesHandler(request);
      },
    });
    ready(server.port);
    return;
  }
  const http = await import("node:" + "http") as NodeHttp;
  const server = http.createServer((req, res) => {
    logLine(
      (req as NodeRequest & { socket: { remoteAddress?: string } }).socket
        .remoteAddress ?? "",
      req.method ?? "GET",
      req.url ?? "/",
    );
    sendBytes(res);
  });
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
  ready(server.address().port);
}
interface DenoLogged {
  stderr: { writeSync(bytes: Uint8Array): number };
  serve(
    options: {
      hostname: string;
      port: number;
      onListen(addr: { port: number }): void;
    },
    handler: (
      request: Request,
      info: { remoteAddr: { hostname: string } },
    ) => Response,
  ): unknown;
}
interface BunLogged {
  serve(options: {
    hostname: string;
    port: number;
    fetch(
      request: Request,
      server: { requestIP(r: Request): { address: string } | null },
    ): Response;
  }): { port: number };
}

async function main(): Promise<void> {
  const argv = g.Deno ? g.Deno.args : g.process!.argv.slice(2);
  const mode = argv[0];
  const port = Number(argv[1] ?? 0);
  const modes = [
    "raw",
    "raw-bytes",
    "raw-bytes-log",
    "raw-wsgi",
    "hono",
    "hono-log",
    "srvx",
    "wsgi",
    "wsgi-log",
    "raw-stream",
    "wsgi-stream",
    "wsgi-file",
    "wsgi-file-copy",
  ];
  if (!modes.includes(mode)) {
    throw new Error(
      `Unknown mode ${JSON.stringify(mode)}; expected one of ${
        modes.join(", ")
      }`,
    );
  }
  const stream = mode.endsWith("-stream");
  const bytes = mode === "raw-bytes" || mode === "raw-wsgi";
  const minimal = mode === "raw-wsgi";
  if (mode.startsWith("wsgi")) {
    const file = mode.startsWith("wsgi-file")
      ? fileApp(await fileOpener(argv[2]), mode === "wsgi-file-copy")
      : null;
    const app = file ?? (stream ? streamApp : helloApp);
    const server = makeServer(
      HOST,
      port,
      app,
      mode === "wsgi-log" ? {} : { log: false },
    );
    await server.ready;
    ready(server.serverPort);
    await server.serveForever();
  } else if (mode === "hono" || mode === "hono-log" || mode === "srvx") {
    await servePeer(mode, port);
  } else if (mode === "raw-bytes-log") {
    await serveLogged(port);
  } else if (g.Deno) {
    g.Deno.serve(
      { hostname: HOST, port, onListen: (addr) => ready(addr.port) },
      fetchHandler(stream, bytes, minimal),
    );
  } else if (g.Bun) {
    const server = g.Bun.serve({
      hostname: HOST,
      port,
      fetch: fetchHandler(stream, bytes, minimal),
    });
    ready(server.port);
  } else {
    await rawNode(port, stream, bytes, minimal);
  }
}

await main();
