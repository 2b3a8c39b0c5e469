/**
 * `makeServer` on Node alone, without runtime detection: import
 * `@wsgi/wsgi/node` to pick this runtime's server directly.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  WSGIApplication,
} from "../core/types.ts";
import { createServer } from "./_create_server.ts";
import type { ServerOptions, WSGIServer } from "./types.ts";
import { listen } from "./_node/server.ts";

/**
 * `makeServer` on Node, without runtime detection.
 *
 * @example Usage
 * ```ts ignore
 * import { makeServer } from "@wsgi/wsgi/node";
 * import { demoApp } from "@wsgi/wsgi";
 * await makeServer("127.0.0.1", 8000, demoApp).serveForever();
 * ```
 *
 * @param host The address to bind.
 * @param port The port; 0 for any free port.
 * @param app The WSGI application.
 * @param options Server options.
 * @returns The server.
 */
export function makeServer<
  Input extends InputStream | AsyncInputStream = InputStream,
>(
  host: string,
  port: number,
  app: WSGIApplication<Input>,
  options?: ServerOptions,
): WSGIServer {
  return createServer(listen, host, port, app as WSGIApplication, options);
}
