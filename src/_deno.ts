// The Deno shim behind makeServer: `Deno.serve`, and the command line's
// view of the process. Only this file (and src/deno.ts) touches `Deno`.
import { answer, type PeerLookup, WebFacts } from "./_web_request.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger, flushingBackend } from "./_backend.ts";
import { LineBatcher } from "./_access_log.ts";
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
  stderr: { writeSync(bytes: Uint8Array): number };
}

const Deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

/** Deno's peer: the handler's second argument. */
const denoPeer: PeerLookup<DenoInfo> = (_request, info) => {
  const addr = info.remoteAddr;
  return { address: addr.hostname, port: addr.port };
};

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
  const log = accessLogger(options, stderr);
  const scheme = options.cert ? "https" : "http";
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
    // A short body goes to Deno as text: the same bytes on the wire,
    // without the copy Deno makes of every Uint8Array body.
    return answer(app, options, log, request, facts, true);
  });
  const backend: Backend = {
    hostname: host,
    port: server.addr.port,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
  return Promise.resolve(flushingBackend(backend, flushStderr));
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
