/**
 * WSGI (PEP 3333) for the Web platform: run a Python-style WSGI application
 * on Deno, Bun, Node and the edge.
 *
 * ```ts ignore
 * import { makeServer } from "@wsgi/wsgi";
 * function app(environ, startResponse) {
 *   startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
 *   return [new TextEncoder().encode("¡Hola, mundo!")];
 * }
 * await makeServer("127.0.0.1", 8000, app).serveForever();
 * ```
 *
 * - {@linkcode makeServer}: wsgiref's `make_server`, on Deno, Bun and Node.
 * - {@linkcode toFetchHandler} / {@linkcode handleRequest}: the core, a Web
 *   `Request` in and a `Response` out, for `deno serve`, Bun, and the edge.
 * - {@linkcode demoApp}: wsgiref's `demo_app`.
 *
 * Run this module to serve the demo app: `deno run --allow-net mod.ts`.
 *
 * @module
 */
export * from "./src/core/types.ts";
export * from "./src/core/environ.ts";
export * from "./src/core/handler.ts";
export * from "./src/runtime/server.ts";
export * from "./src/runtime/logging.ts";
export * from "./src/core/file_wrapper.ts";
export * from "./src/core/metrics.ts";
export * from "./src/wsgiref/demo_app.ts";
export * from "./src/wsgiref/util.ts";
export * from "./src/wsgiref/headers.ts";
export * from "./src/wsgiref/cgi.ts";
export * from "./src/wsgiref/test_client.ts";
export * from "./src/wsgiref/validate.ts";

// #region main (stripped from the npm build, which has its own bin)
import { hasCommandLine } from "./src/runtime/_detect.ts";
// Bundled into a worker by esbuild (wrangler), this line is the worker's
// own, and workerd makes import.meta.main true from compatibility date
// 2026-11-17: start the command line only where there is one.
if ((import.meta as { main?: boolean }).main && hasCommandLine()) {
  import("./src/process/cli.ts").then((cli) => cli.run());
}
// #endregion main
