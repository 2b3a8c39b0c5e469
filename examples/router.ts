/**
 * A small router: `shiftPathInfo` moves one path segment from `PATH_INFO`
 * to `SCRIPT_NAME`, and each route is a WSGI app of its own, so routes can
 * be mounted anywhere (wsgiref.util's dispatch pattern).
 *
 *     deno run --allow-net examples/router.ts
 *     curl http://127.0.0.1:8000/hello/Ana
 *
 * @module
 */
import {
  decodeNative,
  makeServer,
  requestUri,
  shiftPathInfo,
  type StartResponse,
  type WSGIApplication,
  type WSGIEnvironment,
} from "../mod.ts";

const text = (s: string): Uint8Array[] => [new TextEncoder().encode(s)];
const PLAIN: [string, string] = ["Content-Type", "text/plain; charset=utf-8"];

/** `/hello/NAME`: greets NAME (PATH_INFO is latin-1 bytes: decode UTF-8). */
function hello(environ: WSGIEnvironment, startResponse: StartResponse) {
  const name = decodeNative(shiftPathInfo(environ) || "world");
  startResponse("200 OK", [PLAIN]);
  return text(`Hello, ${name}!\n`);
}

/** `/where`: what the app sees of its mount point. */
function where(environ: WSGIEnvironment, startResponse: StartResponse) {
  startResponse("200 OK", [PLAIN]);
  return text(
    `SCRIPT_NAME=${environ.SCRIPT_NAME} PATH_INFO=${environ.PATH_INFO} URI=${
      requestUri(environ)
    }\n`,
  );
}

const routes: Record<string, WSGIApplication> = { hello, where };

/** Dispatches on the first path segment. */
export function app(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
) {
  const name = shiftPathInfo(environ);
  if (name === "" || name === null) {
    startResponse("200 OK", [PLAIN]);
    return text("Routes: /hello/NAME, /where\n");
  }
  const route = routes[name];
  if (!route) {
    startResponse("404 Not Found", [PLAIN]);
    return text(`No route ${JSON.stringify(name)}\n`);
  }
  return route(environ, startResponse);
}

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
