// The Bun shim behind makeServer: `Bun.serve`, and the command line's view
// of the process. Only this file (and src/bun.ts) touches `Bun`.
import { answer, type PeerLookup, WebFacts } from "./_web_request.ts";
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

/** Bun's peer: asked of the server for the request. */
const bunPeer: PeerLookup<BunServer> = (request, server) =>
  server.requestIP(request);

/**
 * The request-target from the URL that Bun builds: `http://` + host +
 * target, normalised (dot segments resolved, non-ASCII percent-encoded,
 * which PATH_INFO decodes the same way and QUERY_STRING shows as Bun made
 * it: see the README's runtime table). A missing, empty or malformed Host
 * (`HTTP/1.0` without one, `user@evil`, `evil/admin`) gives the target
 * alone, with no scheme or host: nothing is cut from it then. Bun's host is
 * parsed as a URL host, which holds no "/", so in a full URL the target
 * starts at the first "/" after "://".
 */
export function bunTarget(url: string): string {
  if (url.charCodeAt(0) === 47) return url; // "/"
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start === -1 ? "/" : url.slice(start);
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
      // Bun gives no body to GET, HEAD and TRACE requests, even one sent
      // with Content-Length (it frames and discards it): CONTENT_LENGTH
      // then says "" (see WebFacts.bodyDropped), not a length wsgi.input
      // cannot give. Telling such a request apart would mean reading its
      // headers before the app runs: a bare Bun.serve handler that does so
      // uses a third more CPU per request (measured, nine headers).
      const body = request.body;
      const facts = new WebFacts(
        request,
        srv,
        bunPeer,
        host,
        boundPort,
        scheme,
        bunTarget(request.url),
        body === null,
      );
      return answer(app, options, log, body, facts);
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
