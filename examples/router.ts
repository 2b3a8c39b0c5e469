/**
 * Routing with the toolkit: a `Router` of werkzeug-style rules (it answers
 * 404, 405 and the trailing-slash redirect itself), and `dispatcher`
 * mounting a plain WSGI app under a prefix, with `SCRIPT_NAME` and
 * `PATH_INFO` moved as PEP 3333 has it.
 *
 *     deno run --allow-net examples/router.ts
 *     curl http://127.0.0.1:8000/hello/Ana
 *
 * @module
 */
import {
  makeServer,
  requestUri,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts";
import { dispatcher, Router, WSGIResponse } from "../src/toolkit/mod.ts";

const router = new Router()
  .get("/", () => new WSGIResponse("Routes: /hello/NAME, /where\n"))
  .get("/hello", () => new WSGIResponse("Hello, world!\n"))
  // The converter's text is already decoded from PATH_INFO's bytes.
  .get(
    "/hello/<name>",
    (_request, { name }) => new WSGIResponse(`Hello, ${name}!\n`),
  );

/** A plain WSGI app: what it sees of its mount point. */
function where(environ: WSGIEnvironment, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  const line =
    `SCRIPT_NAME=${environ.SCRIPT_NAME} PATH_INFO=${environ.PATH_INFO}` +
    ` URI=${requestUri(environ)}\n`;
  return [new TextEncoder().encode(line)];
}

/** The router, with `where` mounted at `/where`. */
export const app = dispatcher(router.asApp(), { "/where": where });

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
