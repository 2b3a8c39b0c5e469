// The Deno shim behind makeServer: `Deno.serve`. Only this file, src/runtime/deno.ts
// and the command line's src/process/_deno.ts touch `Deno`.
import {
  answer,
  headGuard,
  type PeerLookup,
  refuse,
  WebFacts,
  webListener,
} from "./_web_request.ts";
import { textToNative } from "../core/_latin1.ts";
import { targetAt, targetFrom } from "../core/_target.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger, fileLog, flushingBackend } from "./_backend.ts";
import { denoAppend } from "./_log_file_deno.ts";
import { LineBatcher } from "../core/_access_log.ts";
import { Drain } from "./_drain.ts";
import { isValidHost } from "../core/_forwarded/host.ts";
import { badHost } from "../core/_response/answers.ts";

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

/**
 * The request-target, recovered from the URL that Deno builds (its scheme,
 * "://", the Host header as sent, decoded as UTF-8, then the target as
 * sent): see targetAt in core/_target.ts. Null when it cannot be told: the
 * request is refused.
 */
function denoTarget(url: string, host: string | null): string | null {
  const at = targetAt(url, host);
  return at === -1 ? null : textToNative(targetFrom(url, at));
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
  // Deno.serve (2.9.6) takes no timeout or size option and calls the
  // handler only once the head is parsed: headersTimeout and
  // keepAliveTimeout cannot be had on it (README, "Timeouts and limits").
  // bodyTimeout is the core's; header limits given explicitly are counted
  // here when stricter than Deno's own (128 fields, 64 KiB: measured, 400
  // above), which are the defaults' stand-ins (see headGuard).
  const drain = new Drain();
  // "unix:/path": a unix socket; SERVER_NAME is its path, as in gunicorn.
  const unix = host.startsWith("unix:") ? host.slice(5) : null;
  const listener = webListener(app, options, log, {
    lookup: denoPeer,
    serverName: unix ?? host,
    serverPort: unix === null ? port : 80,
    // A short body goes to Deno as text: the same bytes on the wire,
    // without the copy Deno makes of every Uint8Array body.
    mode: { onWire: true, textBodies: true, statusText: false },
    drain,
    guard: headGuard(options, 128, 64 * 1024),
  });
  let known: string | null = null;
  const server = Deno.serve({
    ...(unix === null
      ? { hostname: host, port, reusePort: options.reusePort }
      : { path: unix }),
    cert: options.cert,
    key: options.key,
    onListen: (addr) =>
      void (unix === null && (listener.serverPort = addr.port)),
  }, (request, info) => {
    const inner = innerOf(request);
    const sent = inner ? inner.header("host") : request.headers.get("host");
    const target = denoTarget(request.url, sent);
    const facts = new WebFacts(request, info, listener, target ?? "/", false);
    // RFC 9112 §3.2: a Host that is not host[:port] gets a 400, as from
    // the fetch handler (Deno itself answers 400 to two Host lines).
    if (target === null) return refuse(badHost(sent ?? ""), facts, listener);
    if (sent !== null && sent !== known) {
      if (!isValidHost(sent)) return refuse(badHost(sent), facts, listener);
      // The Host last found valid: the same string passes without the
      // regular expression (one comparison for the common request).
      known = sent;
    }
    // Deno gives no body to GET and HEAD, even one sent with
    // Content-Length (it frames and discards it): such a body is taken from
    // Deno's own request, so that the app reads it as on Node and in
    // wsgiref. `request.body` is not touched first: Deno would remember
    // its null.
    const method = facts.method;
    const body: ReadableStream<Uint8Array> | null =
      method !== "GET" && method !== "HEAD"
        ? request.body
        : inner !== null && announcesBody(inner)
        ? withheldBody(request, inner)
        : null;
    facts.bodyDropped = body === null;
    return answer(listener, facts, body);
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
