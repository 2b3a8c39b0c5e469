// The Deno shim behind makeServer: `Deno.serve`, and the command line's
// view of the process. Only this file (and src/deno.ts) touches `Deno`.
import {
  answer,
  headGuard,
  type PeerLookup,
  WebFacts,
} from "./_web_request.ts";
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

/** Deno's peer: the handler's second argument. */
const denoPeer: PeerLookup<DenoInfo> = (_request, info) => {
  const addr = info.remoteAddr;
  return { address: addr.hostname, port: addr.port };
};

/** Binds `Deno.serve` for a WSGI application. */
export const listen: Listen = (host, port, app, options) => {
  const log = accessLogger(options);
  const scheme = options.cert ? "https" : "http";
  // Deno.serve (2.9.6) takes no timeout or size option and calls the
  // handler only once the head is parsed: headersTimeout and
  // keepAliveTimeout cannot be had on it (README, "Timeouts and limits").
  // bodyTimeout is the core's; header limits given explicitly are counted
  // here when stricter than Deno's own (128 fields, 64 KiB: measured, 400
  // above), which are the defaults' stand-ins (see headGuard).
  const guard = headGuard(options, 128, 64 * 1024);
  let bound: DenoAddr = { hostname: host, port };
  const server = Deno.serve({
    hostname: host,
    port,
    cert: options.cert,
    key: options.key,
    onListen: (addr) => void (bound = addr),
  }, (request, info) => {
    const facts = new WebFacts(
      request,
      info,
      denoPeer,
      host,
      bound.port,
      scheme,
    );
    return answer(app, options, log, request, facts, guard);
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
