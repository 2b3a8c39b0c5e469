// The Deno shim behind makeServer: `Deno.serve`, and the command line's
// view of the process. Only this file (and src/deno.ts) touches `Deno`.
import { serveFacts, toResponse } from "./_serve.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger } from "./_backend.ts";
import type { CliHost } from "./_cli_host.ts";

// The few Deno APIs used here, declared so that no Deno type package is
// needed to type-check or to consume the published types.
interface DenoAddr {
  hostname: string;
  port: number;
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
      info: { remoteAddr: DenoAddr },
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
  }, async (request, info) => {
    const method = request.method;
    const target = targetOf(request.url);
    const remote = info.remoteAddr;
    const out = await serveFacts(
      app,
      {
        method,
        target,
        // Deno does not expose the request's HTTP version.
        protocol: "HTTP/1.1",
        headers: request.headers,
        remoteAddr: remote.hostname,
        remotePort: remote.port,
        serverName: host,
        serverPort: bound.port,
        scheme,
      },
      request.body,
      options,
    );
    return toResponse(
      out,
      method === "HEAD",
      log &&
        ((bytes) =>
          log(remote.hostname, method, target, "HTTP/1.1", out.code, bytes)),
      true,
    );
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
