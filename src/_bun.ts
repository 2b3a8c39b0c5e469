// The Bun shim behind makeServer: `Bun.serve`, and the command line's view
// of the process. Only this file (and src/bun.ts) touches `Bun`.
import { serveFacts, toResponse } from "./_serve.ts";
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
    fetch(request: Request, server: BunServer): Promise<Response>;
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
    async fetch(request, srv) {
      const method = request.method;
      const target = targetOf(request.url);
      const ip = srv.requestIP(request);
      const remoteAddr = ip?.address ?? "";
      const out = await serveFacts(
        app,
        {
          method,
          target,
          // Bun does not expose the request's HTTP version.
          protocol: "HTTP/1.1",
          headers: request.headers,
          remoteAddr,
          remotePort: ip?.port,
          serverName: host,
          serverPort: boundPort,
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
            log(remoteAddr, method, target, "HTTP/1.1", out.code, bytes)),
        true,
      );
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
