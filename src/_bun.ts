// The Bun shim behind makeServer: `Bun.serve`, and the command line's view
// of the process. Only this file (and src/bun.ts) touches `Bun`.
import { type OnBodyEnd, serveFacts, toResponse } from "./_serve.ts";
import type { Outcome } from "./_exchange.ts";
import type { RequestFacts } from "./environ.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger } from "./_backend.ts";
import type { CliHost } from "./_cli_host.ts";

// The few Bun APIs used here, declared so that no Bun type package is
// needed to type-check or to consume the published types.
interface BunServer {
  port: number;
  hostname: string;
  requestIP(request: Request): { address: string; port: number } | null;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunGlobal {
  serve(options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}

const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;

function targetOf(url: string): string {
  // Bun hands over a normalised URL: dot segments resolved and non-ASCII
  // percent-encoded. PATH_INFO decodes the same either way; QUERY_STRING
  // shows Bun's encoding (see the README's runtime table).
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start === -1 ? "/" : url.slice(start);
}

type BunPeer = { address: string; port: number } | null;

/**
 * One request's facts (see makeEnviron). A class, so that its getters are
 * shared: Bun is asked for the headers and the peer only when the
 * application reads them, and no closure is made per request for that.
 */
class BunFacts implements RequestFacts {
  method: string;
  target: string;
  // Bun does not expose the request's HTTP version.
  protocol = "HTTP/1.1";
  serverName: string;
  serverPort: number;
  scheme: "http" | "https";
  #request: Request;
  #server: BunServer;
  #peer: BunPeer | undefined = undefined;

  constructor(
    request: Request,
    server: BunServer,
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
    this.#server = server;
  }

  get headers(): Headers {
    return this.#request.headers;
  }

  get peer(): BunPeer {
    if (this.#peer === undefined) {
      this.#peer = this.#server.requestIP(this.#request);
    }
    return this.#peer;
  }

  get remoteAddr(): string {
    return this.peer?.address ?? "";
  }

  get remotePort(): number | undefined {
    return this.peer?.port;
  }
}

/** The access-log callback for one request, once its outcome is known. */
function logLine(
  log: NonNullable<ReturnType<typeof accessLogger>>,
  facts: BunFacts,
  peer: string,
): (out: Outcome) => OnBodyEnd {
  return (out) => (bytes) =>
    log(peer, facts.method, facts.target, "HTTP/1.1", out.code, bytes);
}

/** Binds `Bun.serve` for a WSGI application. */
export const listen: Listen = (host, port, app, options) => {
  const log = accessLogger(options);
  const scheme = options.cert ? "https" : "http";
  let boundPort = port;
  const server = Bun.serve({
    hostname: host,
    port,
    tls: options.cert && options.key
      ? { cert: options.cert, key: options.key }
      : undefined,
    fetch(request, srv) {
      const facts = new BunFacts(request, srv, host, boundPort, scheme);
      const isHead = facts.method === "HEAD";
      // The access log is written when the body ends, perhaps after Bun
      // has let the request go: the peer is asked for now.
      const onEnd = log && logLine(log, facts, facts.remoteAddr);
      const out = serveFacts(app, facts, request.body, options);
      // A Response returned at once spares Bun a Promise per request.
      return out instanceof Promise
        ? out.then((out) => toResponse(out, isHead, onEnd && onEnd(out), true))
        : toResponse(out, isHead, onEnd && onEnd(out), true);
    },
  });
  boundPort = server.port;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let stopping: Promise<void> | null = null;
  const backend: Backend = {
    hostname: host,
    port: server.port,
    finished,
    shutdown() {
      // stop() closes idle keep-alive connections at once and resolves
      // when the requests in flight have finished.
      stopping ??= server.stop().then(done);
      return stopping;
    },
  };
  return Promise.resolve(backend);
};

interface BunProcess {
  argv: string[];
  cwd(): string;
  exit(code: number): never;
  on(signal: string, handler: () => void): void;
}
const proc = (globalThis as unknown as { process: BunProcess }).process;

/** The command line's view of Bun. */
export const cliHost: CliHost = {
  args: () => proc.argv.slice(2),
  cwd: () => proc.cwd(),
  exit: (code) => proc.exit(code),
  onSignal(handler) {
    proc.on("SIGINT", handler);
    proc.on("SIGTERM", handler);
  },
};
