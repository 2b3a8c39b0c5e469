/**
 * The WSGI toolkit: what werkzeug gives a WSGI application in Python, on
 * the Web platform and with no dependency; and whitenoise's static files.
 *
 * - {@linkcode WSGIRequest}: werkzeug's `Request` over an environ (path,
 *   args, headers, cookies, JSON, forms, uploads as `File`s), lazy.
 * - {@linkcode WSGIResponse}: werkzeug's `Response` (text, bytes or a
 *   stream; cookies; JSON, redirects, errors), answering a WSGI request.
 * - {@linkcode HTTPError} and {@linkcode abort}: errors as exceptions.
 * - {@linkcode Router}: werkzeug-style rules (`/users/<int:id>`), 404,
 *   405, OPTIONS, URL building, the trailing-slash redirect.
 * - {@linkcode dispatcher}: werkzeug's `DispatcherMiddleware`.
 * - {@linkcode fromFetchHandler}: a fetch handler (a Hono app) as a WSGI app.
 * - {@linkcode serveStatic} and {@linkcode staticFiles}: whitenoise's static
 *   files (ETag, 304, Range, precompressed siblings, hostile paths refused).
 * - {@linkcode compress}: gzip, brotli and deflate by `Accept-Encoding`.
 *
 * ```ts
 * import { makeServer } from "@wsgi/wsgi";
 * import { Router, WSGIResponse } from "@wsgi/wsgi/toolkit";
 *
 * const router = new Router()
 *   .get("/hello/<name>", (_request, { name }) => new WSGIResponse(`Hello, ${name}!`));
 * const server = makeServer("127.0.0.1", 0, router.asApp(), { log: false });
 * await server.ready;
 * const res = await fetch(new URL("/hello/Zo%C3%AB", server.url));
 * console.log(await res.text()); // Hello, Zoë!
 * await server.shutdown();
 * ```
 *
 * @module
 */
// The WSGI types the toolkit's signatures use, so that this entry point
// stands alone.
export type * from "../core/types.ts";
export * from "./http_error.ts";
export * from "./request.ts";
export * from "./response.ts";
export * from "./cookie_options.ts";
export * from "./routing.ts";
export * from "./dispatcher.ts";
export * from "./fetch_app.ts";
export * from "./static.ts";
export * from "./compress.ts";
