// The Deno shim behind makeServer: `Deno.serve`. Only this file, src/deno.ts
// and the command line's src/_process_deno.ts touch `Deno`.
import { answer, type PeerLookup, WebFacts } from "./_web_request.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger } from "./_backend.ts";

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
}

const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

/** Deno's peer: the handler's second argument. */
const denoPeer: PeerLookup<DenoInfo> = (_request, info) => {
  const addr = info.remoteAddr;
  return { address: addr.hostname, port: addr.port };
};

/** Binds `Deno.serve` for a WSGI application. */
export const listen: Listen = (host, port, app, options) => {
  const log = accessLogger(options);
  const scheme = options.cert ? "https" : "http";
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
    const facts = new WebFacts(
      request,
      info,
      denoPeer,
      unix ?? host,
      unix === null ? bound.port : 80,
      scheme,
    );
    return answer(app, options, log, request, facts);
  });
  const backend: Backend = {
    hostname: host,
    port: server.addr.port ?? 0,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
  return Promise.resolve(backend);
};
