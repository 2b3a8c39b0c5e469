/**
 * `makeServer(host, port, app)` and `serveForever()`: wsgiref's
 * `simple_server`, on Deno, Bun and Node.
 *
 * @module
 */
import type { WSGIApplication } from "./types.ts";
import type { WSGIOptions } from "./handler.ts";
import type { Listen } from "./_backend.ts";
import { createServer } from "./_create_server.ts";

/**
 * Options for {@linkcode makeServer}.
 *
 * @example Usage
 * ```ts
 * import type { ServerOptions } from "@wsgi/wsgi";
 * const options: ServerOptions = { log: false, maxBodySize: 1 << 20 };
 * ```
 */
export interface ServerOptions extends WSGIOptions {
  /** Aborting it shuts the server down, as `shutdown()` does. */
  signal?: AbortSignal;
  /** A PEM certificate (chain): with `key`, the server speaks HTTPS. */
  cert?: string;
  /** The PEM private key for `cert`. */
  key?: string;
  /**
   * The access log: by default one wsgiref-style line per request on
   * stderr; `false` silences it; a function receives each line instead.
   */
  log?: false | ((line: string) => void);
  /**
   * Share the port with other processes that also bind it with
   * `reusePort` (`SO_REUSEPORT`): on Linux the kernel balances new
   * connections between them. Elsewhere (macOS, the BSDs) the last to bind
   * may take them all; Windows has no such option, and Node before 22.12
   * ignores it. The command line's `--workers` uses it on Deno and Bun.
   */
  reusePort?: boolean;
}

/**
 * A running server, as {@linkcode makeServer} returns it.
 *
 * @example Usage
 * ```ts
 * import { demoApp, makeServer, type WSGIServer } from "@wsgi/wsgi";
 * const server: WSGIServer = makeServer("127.0.0.1", 0, demoApp, { log: false });
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export interface WSGIServer {
  /** The application being served. */
  readonly app: WSGIApplication;
  /** Settles once the server listens (rejects if it cannot bind). */
  readonly ready: Promise<void>;
  /** `SERVER_NAME`: the host it was bound to. */
  readonly serverName: string;
  /** The bound port (the free port chosen for port 0, once `ready`). */
  readonly serverPort: number;
  /** The server's base URL, such as `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** Serves until shut down; settles when the server has closed. */
  serveForever(): Promise<void>;
  /**
   * Graceful shutdown: stops accepting connections, closes idle ones, lets
   * requests in flight finish; resolves when done.
   */
  shutdown(): Promise<void>;
}

/** Which runtime this is; the server shim to load. */
function detect(): "deno" | "bun" | "node" {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Deno === "object") return "deno";
  if (typeof g.Bun === "object") return "bun";
  const proc = g.process as { versions?: { node?: string } } | undefined;
  if (proc?.versions?.node) return "node";
  throw new Error(
    "makeServer() runs on Deno, Bun or Node; elsewhere serve toFetchHandler(app)",
  );
}

async function loadListen(): Promise<Listen> {
  // Each shim is imported only on its own runtime: Deno never loads
  // node:http, and the core stays importable anywhere.
  switch (detect()) {
    case "deno":
      return (await import("./_deno.ts")).listen;
    case "bun":
      return (await import("./_bun.ts")).listen;
    default:
      return (await import("./_node.ts")).listen;
  }
}

/**
 * Binds a server for a WSGI application, as wsgiref's `make_server` does;
 * call `serveForever()` to serve. Port 0 picks a free port (see
 * `serverPort` and `url` once `ready`). The runtime is detected: `Deno.serve`
 * on Deno, `Bun.serve` on Bun, `node:http` on Node.
 *
 * @example Usage
 * ```ts
 * import { makeServer, type StartResponse } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * function app(_environ: unknown, startResponse: StartResponse) {
 *   startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
 *   return [new TextEncoder().encode("¡Hola, mundo!")];
 * }
 * const server = makeServer("127.0.0.1", 0, app, { log: false });
 * await server.ready;
 * const response = await fetch(server.url);
 * assert.equal(await response.text(), "¡Hola, mundo!");
 * await server.shutdown();
 * ```
 *
 * @param host The address to bind: `"127.0.0.1"`, `"::1"`, `"0.0.0.0"`...,
 *   or `"unix:/path/to.sock"` for a unix socket (then `port` is ignored).
 * @param port The port; 0 for any free port.
 * @param app The WSGI application.
 * @param options TLS, access log, abort signal, body limit, and so on.
 * @returns The server, already binding.
 */
export function makeServer(
  host: string,
  port: number,
  app: WSGIApplication,
  options: ServerOptions = {},
): WSGIServer {
  return createServer(loadListen(), host, port, app, options);
}
