// The Bun shim behind makeServer: `Bun.serve`, and the command line's view
// of the process. Only this file (and src/bun.ts) touches `Bun`.
import { answer, type PeerLookup, WebFacts } from "./_web_request.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger, flushingBackend } from "./_backend.ts";
import { fdStderr, flushFdStderr } from "./_stderr_fd.ts";
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

/** Binds `Bun.serve` for a WSGI application. */
export const listen: Listen = async (host, port, app, options) => {
  const toStderr = options.log !== false && typeof options.log !== "function";
  const stderr = toStderr ? await fdStderr() : null;
  const log = accessLogger(options, () => stderr!);
  const scheme = options.cert ? "https" : "http";
  let boundPort = port;
  const server = Bun.serve({
    hostname: host,
    port,
    tls: options.cert && options.key
      ? { cert: options.cert, key: options.key }
      : undefined,
    fetch(request, srv) {
      const facts = new WebFacts(
        request,
        srv,
        bunPeer,
        host,
        boundPort,
        scheme,
      );
      return answer(app, options, log, request, facts);
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
  return flushingBackend(backend, flushFdStderr);
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
