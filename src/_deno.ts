// The Deno shim behind makeServer: `Deno.serve`, and the command line's
// view of the process. Only this file (and src/deno.ts) touches `Deno`.
import { type OnBodyEnd, serveFacts, toResponse } from "./_serve.ts";
import type { Outcome } from "./_exchange.ts";
import type { RequestFacts } from "./environ.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger } from "./_backend.ts";
import type { CliHost } from "./_cli_host.ts";

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
  hostname: string;
  port: number;
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
  args: string[];
  cwd(): string;
  exit(code: number): never;
  addSignalListener(signal: string, handler: () => void): void;
}

const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

function targetOf(url: string): string {
  // Deno keeps the request-target as the client sent it: take it verbatim
  // after "scheme://authority" (new URL() would resolve dot segments).
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start === -1 ? "/" : url.slice(start);
}

/**
 * One request's facts (see makeEnviron). A class, so that its getters are
 * shared: Deno is asked for the headers and the peer only when the
 * application reads them, and no closure is made per request for that.
 */
class DenoFacts implements RequestFacts {
  method: string;
  target: string;
  // Deno does not expose the request's HTTP version.
  protocol = "HTTP/1.1";
  serverName: string;
  serverPort: number;
  scheme: "http" | "https";
  #request: Request;
  #info: DenoInfo;
  #peer: DenoAddr | null = null;

  constructor(
    request: Request,
    info: DenoInfo,
    serverName: string,
    serverPort: number,
    scheme: "http" | "https",
  ) {
    this.method = request.method;
    this.target = targetOf(request.url);
    this.serverName = serverName;
    this.serverPort = serverPort;
    this.scheme = scheme;
    this.#request = request;
    this.#info = info;
  }

  get headers(): Headers {
    return this.#request.headers;
  }

  get peer(): DenoAddr {
    return this.#peer ??= this.#info.remoteAddr;
  }

  get remoteAddr(): string {
    return this.peer.hostname;
  }

  get remotePort(): number {
    return this.peer.port;
  }
}

/** The access-log callback for one request, once its outcome is known. */
function logLine(
  log: NonNullable<ReturnType<typeof accessLogger>>,
  facts: DenoFacts,
  peer: string,
): (out: Outcome) => OnBodyEnd {
  return (out) => (bytes) =>
    log(peer, facts.method, facts.target, "HTTP/1.1", out.code, bytes);
}

/** Binds `Deno.serve` for a WSGI application. */
export const listen: Listen = (host, port, app, options) => {
  const log = accessLogger(options);
  const scheme = options.cert ? "https" : "http";
  let bound: DenoAddr = { hostname: host, port };
  const server = Deno.serve({
    hostname: host,
    port,
    cert: options.cert,
    key: options.key,
    onListen: (addr) => void (bound = addr),
  }, (request, info) => {
    const facts = new DenoFacts(request, info, host, bound.port, scheme);
    const isHead = facts.method === "HEAD";
    // The access log is written when the body ends, perhaps after Deno has
    // let the request go: the peer is asked for now.
    const onEnd = log && logLine(log, facts, facts.peer.hostname);
    const out = serveFacts(app, facts, request.body, options);
    // A Response returned at once spares Deno a Promise per request.
    return out instanceof Promise
      ? out.then((out) => toResponse(out, isHead, onEnd && onEnd(out), true))
      : toResponse(out, isHead, onEnd && onEnd(out), true);
  });
  const backend: Backend = {
    hostname: host,
    port: server.addr.port,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
  return Promise.resolve(backend);
};

/** The command line's view of Deno. */
export const cliHost: CliHost = {
  args: () => Deno.args,
  cwd: () => Deno.cwd(),
  exit: (code) => Deno.exit(code),
  onSignal(handler) {
    Deno.addSignalListener("SIGINT", handler);
    Deno.addSignalListener("SIGTERM", handler);
  },
};
