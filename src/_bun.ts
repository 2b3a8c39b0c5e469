// The Bun shim behind makeServer: `Bun.serve`. Only this file, src/bun.ts
// and the command line's src/_process_bun.ts touch `Bun`.
import { answer, type PeerLookup, WebFacts } from "./_web_request.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger } from "./_backend.ts";

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
    hostname?: string;
    port?: number;
    unix?: string;
    reusePort?: boolean;
    tls?: { cert: string; key: string };
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}

const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;

/** Bun's peer: asked of the server for the request. */
const bunPeer: PeerLookup<BunServer> = (request, server) =>
  server.requestIP(request);

/** Binds `Bun.serve` for a WSGI application. */
export const listen: Listen = (host, port, app, options) => {
  const log = accessLogger(options);
  const scheme = options.cert ? "https" : "http";
  let boundPort = port;
  // "unix:/path": a unix socket; SERVER_NAME is its path, as in gunicorn.
  const unix = host.startsWith("unix:") ? host.slice(5) : null;
  const server = Bun.serve({
    ...(unix === null
      ? { hostname: host, port, reusePort: options.reusePort }
      : { unix }),
    tls: options.cert && options.key
      ? { cert: options.cert, key: options.key }
      : undefined,
    fetch(request, srv) {
      const facts = new WebFacts(
        request,
        srv,
        bunPeer,
        unix ?? host,
        unix === null ? boundPort : 80,
        scheme,
      );
      return answer(app, options, log, request, facts);
    },
  });
  boundPort = server.port ?? 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let stopping: Promise<void> | null = null;
  const backend: Backend = {
    hostname: host,
    port: boundPort,
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
