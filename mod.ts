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
 * @module
 */
export * from "./src/types.ts";
export * from "./src/environ.ts";
export * from "./src/handler.ts";
export * from "./src/file_wrapper.ts";
export * from "./src/demo_app.ts";
