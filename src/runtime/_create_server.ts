// The server object every runtime shares: binding happens in the
// background (the runtime's shim may be loaded by dynamic import), and the
// object answers for it.
import type { WSGIApplication } from "../core/types.ts";
import type { ServerOptions, WSGIServer } from "./types.ts";
import type { Backend, Listen } from "./_backend.ts";
import { withTrust } from "../core/_forwarded/proxy_trust.ts";
import { checkOptions, type OptionNames } from "../core/_options.ts";

/**
 * Every `ServerOptions` name (server.ts), checked by every `makeServer`
 * once, here. Adding an option? List it here too: the compiler insists.
 * Some are being added on other branches; listed now so that the merge
 * needs no edit here.
 */
const SERVER_OPTION_NAMES: OptionNames<ServerOptions> = {
  // WSGIOptions (handler.ts) and EnvironOptions (environ.ts):
  errors: true,
  allowUnderscoreHeaders: true,
  serverSoftware: true,
  maxBodySize: true,
  bufferInput: true,
  // ServerOptions:
  signal: true,
  cert: true,
  key: true,
  log: true,
  accessLog: true,
  maxConcurrency: true,
  reusePort: true,
  proxyProtocol: true,
  proxyAllowFrom: true,
  forwardedAllowIps: true,
  headersTimeout: true,
  keepAliveTimeout: true,
  bodyTimeout: true,
  maxHeaderCount: true,
  maxHeaderSize: true,
  metrics: true,
};
import { resolveLimits } from "../core/_limits.ts";
import { accessLogOptions } from "./_access_log_options.ts";
import { gateFor } from "../core/_overload.ts";
import { ServerMetrics } from "../core/metrics.ts";

/** Wraps a runtime's listener as a `WSGIServer`. */
export function createServer(
  listen: Listen | Promise<Listen>,
  host: string,
  port: number,
  app: WSGIApplication,
  options: ServerOptions = {},
): WSGIServer {
  checkOptions(options, SERVER_OPTION_NAMES, "makeServer()");
  if (typeof app !== "function") {
    throw new TypeError(
      `makeServer(): app must be a function app(environ, startResponse), got ${typeof app}`,
    );
  }
  if (
    options.metrics !== undefined && !(options.metrics instanceof ServerMetrics)
  ) {
    throw new TypeError(
      `makeServer(): metrics must be a ServerMetrics, got ${typeof options
        .metrics}`,
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `makeServer(): port must be an integer from 0 to 65535, got ${
        JSON.stringify(port)
      }`,
    );
  }
  // Checked now, so that a bad value is an error at the call (the shims
  // compile them again, once per server).
  accessLogOptions(options.accessLog);
  gateFor(options.maxConcurrency);
  // Checked now, so that a bad value is an error at the call. The core
  // reads bodyTimeout from the options; the shims resolve the rest (they
  // need to know which header limits were given). forwardedAllowIps is
  // compiled (and checked) now, once per server.
  const served = withTrust(
    { ...options, bodyTimeout: resolveLimits(options).bodyTimeout },
    host,
  );
  let backend: Backend | null = null;
  let closing: Promise<void> | null = null;
  const ready = Promise.resolve(listen).then(async (fn) => {
    backend = await fn(host, port, app, served);
    options.signal?.addEventListener("abort", () => void server.shutdown(), {
      once: true,
    });
    if (options.signal?.aborted) void server.shutdown();
  });
  // An unbound server must not crash the process with an unhandled
  // rejection when nobody awaits `ready`; serveForever() still rejects.
  ready.catch(() => {});
  const server: WSGIServer = {
    app,
    ready,
    get serverName(): string {
      return backend?.hostname ?? host;
    },
    get serverPort(): number {
      return backend?.port ?? port;
    },
    get url(): string {
      const name = server.serverName;
      const shown = name.includes(":") ? `[${name}]` : name;
      return `${
        options.cert ? "https" : "http"
      }://${shown}:${server.serverPort}/`;
    },
    async serveForever(): Promise<void> {
      await ready;
      await backend!.finished;
    },
    shutdown(how: { drainMs?: number } = {}): Promise<void> {
      const drainMs = how.drainMs ?? 0;
      closing ??= ready.then(
        async () => {
          if (drainMs > 0) await backend!.drain(drainMs);
          await backend!.shutdown();
        },
        () => {},
      );
      return closing;
    },
  };
  return server;
}
