/**
 * `makeServer(host, port, app)` and `serveForever()`: wsgiref's
 * `simple_server`, on Deno, Bun and Node.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  WSGIApplication,
} from "../core/types.ts";
import type { Listen } from "./_backend.ts";
import type { AccessLogOptions, ServerOptions, WSGIServer } from "./types.ts";
import { createServer } from "./_create_server.ts";
import { runtimeName } from "./_detect.ts";
import { proxyAllow } from "../core/_forwarded/proxy_protocol.ts";

export type { AccessLogOptions, ServerOptions, WSGIServer };

/** Which runtime this is; the server shim to load. */
function detect(): "deno" | "bun" | "node" {
  // runtimeName() tells workerd first: it can pass for Node (nodejs_compat),
  // where makeServer would "bind" a port no client can reach.
  const name = runtimeName();
  if (name === "deno" || name === "bun" || name === "node") return name;
  const where = name === "workerd" ? "workerd (Cloudflare Workers)" : "here";
  throw new Error(
    `makeServer() runs on Deno, Bun or Node, not ${where}: serve ` +
      "toFetchHandler(app) instead (export default { fetch: toFetchHandler(app) })",
  );
}

async function loadListen(
  name: "deno" | "bun" | "node",
  host: string,
  options: ServerOptions,
): Promise<Listen> {
  // Each shim is imported only on its own runtime: Deno never loads
  // node:http, and the core stays importable anywhere. But an inherited
  // socket (`fd://N`) and the PROXY protocol need the connection before
  // HTTP: Deno.serve and Bun.serve give no way to it, their node:net and
  // node:http do (src/runtime/_node/front.ts).
  if (host.startsWith("fd://") || options.proxyProtocol) {
    return (await import("./_node/server.ts")).listen;
  }
  switch (name) {
    case "deno":
      return (await import("./_deno.ts")).listen;
    case "bun":
      return (await import("./_bun.ts")).listen;
    default:
      return (await import("./_node/server.ts")).listen;
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
 *   `"unix:/path/to.sock"` for a unix socket, or `"fd://3"` for a
 *   listening socket inherited from the parent process, such as systemd's
 *   socket activation (then `port` is ignored; on Deno and Bun the server
 *   runs on their `node:http`).
 * @param port The port; 0 for any free port.
 * @param app The WSGI application.
 * @param options TLS, access log, abort signal, body limit, and so on.
 * @returns The server, already binding.
 * @throws {Error} Where no server can run (workerd, another edge runtime):
 *   the message says to serve `toFetchHandler(app)` instead.
 */
export function makeServer<
  Input extends InputStream | AsyncInputStream = InputStream,
>(
  host: string,
  port: number,
  app: WSGIApplication<Input>,
  options: ServerOptions = {},
): WSGIServer {
  // Checked now, so that a bad value is an error at the call.
  if (options.proxyProtocol || options.proxyAllowFrom !== undefined) {
    proxyAllow(options);
  }
  // Detected before anything starts, so that a call where no server can
  // run (a Worker) throws at once instead of returning a server whose
  // `ready` rejects.
  return createServer(
    loadListen(detect(), host, options),
    host,
    port,
    app as WSGIApplication,
    options,
  );
}
