// The Deno shim behind makeServer: `Deno.serve`. Only this file, src/runtime/deno.ts
// and the command line's src/process/_deno.ts touch `Deno`.
import {
  answer,
  headGuard,
  type PeerLookup,
  refuse,
  WebFacts,
} from "./_web_request.ts";
import { nativeToBytes, textToNative } from "../core/_latin1.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger, fileLog, flushingBackend } from "./_backend.ts";
import { denoAppend } from "./_log_file_deno.ts";
import { gateFor } from "../core/_overload.ts";
import { LineBatcher } from "../core/_access_log.ts";
import { closing, Drain } from "./_drain.ts";
import { badHost, isValidHost } from "../core/_forwarded/host.ts";

// The few Deno APIs used here, declared so that no Deno type package is
// needed to type-check or to consume the published types.
interface DenoAddr {
  hostname: string;
  port: number;
}
interface DenoInfo {
  remoteAddr: DenoAddr;
}
interface DenoHttpServer {
  addr: DenoAddr;
  finished: Promise<void>;
  shutdown(): Promise<void>;
}
interface DenoServeOptions {
  hostname?: string;
  port?: number;
  path?: string;
  reusePort?: boolean;
  cert?: string;
  key?: string;
  onListen?: (addr: DenoAddr) => void;
  onError?: (error: unknown) => Response;
}
interface DenoGlobal {
  serve(
    options: DenoServeOptions,
    handler: (
      request: Request,
      info: DenoInfo,
    ) => Response | Promise<Response>,
  ): DenoHttpServer;
  stderr: { writeSync(bytes: Uint8Array): number };
  pid: number;
}

const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

/** Deno's peer: the handler's second argument. */
const denoPeer: PeerLookup<DenoInfo> = (_request, info) => {
  const addr = info.remoteAddr;
  return { address: addr.hostname, port: addr.port };
};

/**
 * Deno's own request (`InnerRequest` in ext/http's 00_serve.ts), which its
 * `Request` keeps under a symbol described "request". It answers one header
 * with one call into Deno (0.1-0.3 µs), without the whole `Headers` object
 * that `request.headers` builds (measured: a bare `Deno.serve` handler
 * that reads Host that way uses a fifth more CPU), and holds the
 * body of a GET or HEAD that `request.body` withholds. Not a public API:
 * when a Deno release changes it, `request.headers` is used instead and
 * such a body is reported dropped (see WebFacts.bodyDropped).
 */
interface DenoInnerRequest {
  header(name: string): string | null;
  readonly body: unknown;
}

/** The symbol under which Deno keeps it; null when there is none. */
let innerKey: symbol | null | undefined;

function innerOf(request: Request): DenoInnerRequest | null {
  if (innerKey === undefined) {
    innerKey = null;
    for (const key of Object.getOwnPropertySymbols(request)) {
      const inner = (request as unknown as Record<symbol, DenoInnerRequest>)[
        key
      ];
      if (
        key.description === "request" && typeof inner?.header === "function"
      ) {
        innerKey = key;
      }
    }
  }
  if (innerKey === null) return null;
  const inner = (request as unknown as Record<symbol, DenoInnerRequest>)[
    innerKey
  ];
  return typeof inner?.header === "function" ? inner : null;
}

/**
 * The body Deno framed for a GET or HEAD request and would discard: its
 * `InnerRequest.body` returns null when `this.method` is GET or HEAD, so
 * that name is shadowed for the one call. Null when that no longer works.
 */
function withheldBody(
  request: Request,
  inner: DenoInnerRequest,
): ReadableStream<Uint8Array> | null {
  try {
    Object.defineProperty(inner, "method", {
      value: "POST",
      configurable: true,
    });
    try {
      void inner.body;
    } finally {
      delete (inner as { method?: string }).method;
    }
    return request.body;
  } catch {
    return null;
  }
}

/** True when a GET or HEAD request's headers announce a body. */
function announcesBody(inner: DenoInnerRequest): boolean {
  const length = inner.header("content-length");
  if (length !== null) return length !== "0";
  return inner.header("transfer-encoding") !== null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The request-target, recovered from the URL that Deno builds: its scheme,
 * "://", the Host header as sent (decoded as UTF-8), then the target as
 * sent. The Host is cut off by its own length, so that a Host holding a
 * "/" (`evil/admin`, `evil/..`) can never shift the path. Without a Host,
 * with an empty one or one that is not UTF-8, Deno puts "localhost:PORT"
 * there; for an absolute-form target (`GET http://h/p`) the URL is the
 * target itself (RFC 9112 §3.2.2: its authority wins over Host). None of
 * these authorities holds a "/", so the target starts at the first "/".
 * Null when it cannot be told (a Host with a "/" that is not where the URL
 * has it): the request is refused. One case stays ambiguous, and is read
 * as the origin form: an absolute-form target whose authority and path
 * begin with a Host that holds a "/" (a proxy's form with an invalid Host).
 */
export function denoTarget(url: string, host: string | null): string | null {
  const start = url.indexOf("://") + 3;
  if (host) {
    // The common case: an ASCII Host, found where it belongs.
    let end = start + host.length;
    if (url.startsWith(host, start) && url.charCodeAt(end) === 47) {
      return textToNative(url.slice(end));
    }
    let shown: string | null = null;
    try {
      // The header is a native string: one character per byte.
      shown = utf8.decode(nativeToBytes(host));
    } catch {
      // Not UTF-8: Deno put "localhost:PORT" there instead.
    }
    if (shown !== null && shown !== host) {
      end = start + shown.length;
      if (url.startsWith(shown, start) && url.charCodeAt(end) === 47) {
        return textToNative(url.slice(end));
      }
    }
    if (host.includes("/")) return null;
  }
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47) return textToNative(url.slice(i)); // "/"
    if (c === 63) return textToNative("/" + url.slice(i)); // "?"
  }
  return "/";
}

let stderrLog: LineBatcher | null = null;

/**
 * The process's access log on stderr, made on first use: batches of whole
 * lines, each one synchronous `Deno.stderr.writeSync` (measured the
 * cheapest way to stderr here: half the time of an awaited
 * `Deno.stderr.write`, a quarter of `console.error`'s per batch, which
 * formats its arguments). Deno dispatches "unload" at a normal exit and at
 * `Deno.exit()`: whatever is still held is written then.
 */
function stderr(): LineBatcher {
  if (stderrLog !== null) return stderrLog;
  const encoder = new TextEncoder();
  const log = new LineBatcher((text) => {
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length;) {
      at += Deno.stderr.writeSync(bytes.subarray(at));
    }
  });
  (globalThis as unknown as EventTarget).addEventListener(
    "unload",
    () => log.flush(),
  );
  return stderrLog = log;
}

const flushStderr = (): void => stderrLog?.flush();

/** Binds `Deno.serve` for a WSGI application. */
export const listen: Listen = (host, port, app, options) => {
  const log = accessLogger(options, {
    stderr,
    file: fileLog(denoAppend),
    pid: Deno.pid,
  });
  const gate = gateFor(options.maxConcurrency);
  // The time a request came is taken only when the log reads it
  // (performance.now() costs 0.6 µs on Deno, 0.15 µs on Bun and Node).
  const timed = log?.timed === true;
  const waits = log?.waits === true;
  const metrics = options.metrics ?? null;
  const scheme = options.cert ? "https" : "http";
  // Deno.serve (2.9.6) takes no timeout or size option and calls the
  // handler only once the head is parsed: headersTimeout and
  // keepAliveTimeout cannot be had on it (README, "Timeouts and limits").
  // bodyTimeout is the core's; header limits given explicitly are counted
  // here when stricter than Deno's own (128 fields, 64 KiB: measured, 400
  // above), which are the defaults' stand-ins (see headGuard).
  const guard = headGuard(options, 128, 64 * 1024);
  const drain = new Drain();
  let bound: DenoAddr = { hostname: host, port };
  // "unix:/path": a unix socket; SERVER_NAME is its path, as in gunicorn.
  const unix = host.startsWith("unix:") ? host.slice(5) : null;
  const server = Deno.serve({
    ...(unix === null
      ? { hostname: host, port, reusePort: options.reusePort }
      : { path: unix }),
    cert: options.cert,
    key: options.key,
    onListen: (addr) => void (unix === null && (bound = addr)),
  }, (request, info) => {
    const inner = innerOf(request);
    const sent = inner ? inner.header("host") : request.headers.get("host");
    const target = denoTarget(request.url, sent);
    const facts = new WebFacts(
      request,
      info,
      denoPeer,
      unix ?? host,
      unix === null ? bound.port : 80,
      scheme,
      target ?? "/",
      false,
    );
    if (metrics !== null) facts.begin(metrics);
    else if (timed) facts.start = performance.now();
    if (waits) facts.ran = -1;
    // RFC 9112 §3.2: a Host that is not host[:port] gets a 400, as from
    // the fetch handler (Deno itself answers 400 to two Host lines).
    if (target === null || (sent !== null && !isValidHost(sent))) {
      return refuse(badHost(sent ?? ""), facts, log);
    }
    // Deno gives no body to GET and HEAD, even one sent with
    // Content-Length (it frames and discards it): such a body is taken from
    // Deno's own request, so that the app reads it as on Node and in
    // wsgiref. `request.body` is not touched first: Deno would remember
    // its null.
    const method = request.method;
    const body: ReadableStream<Uint8Array> | null =
      method !== "GET" && method !== "HEAD"
        ? request.body
        : inner !== null && announcesBody(inner)
        ? withheldBody(request, inner)
        : null;
    facts.bodyDropped = body === null;
    // A short body goes to Deno as text: the same bytes on the wire,
    // without the copy Deno makes of every Uint8Array body.
    facts.gate = gate;
    if (drain.active) {
      drain.note();
      return closing(answer(app, options, log, body, facts, guard, null, true));
    }
    return answer(app, options, log, body, facts, guard, null, true);
  });
  const backend: Backend = {
    hostname: host,
    port: server.addr.port ?? 0,
    finished: server.finished,
    shutdown: () => server.shutdown(),
    drain: (maxMs) => drain.run(maxMs),
  };
  return Promise.resolve(flushingBackend(backend, flushStderr));
};
