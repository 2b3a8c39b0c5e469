/**
 * Middleware: a function from app to app. `timing(app)` adds an
 * `X-Response-Time` header and logs each request's total time to
 * `wsgi.errors` when the body is closed, passing `close()` on to the
 * wrapped app's iterable as PEP 3333 requires.
 *
 *     deno run --allow-net examples/middleware.ts
 *
 * @module
 */
import {
  demoApp,
  makeServer,
  type StartResponse,
  type WSGIApplication,
  type WSGIBody,
  type WSGIEnvironment,
} from "../mod.ts";

/** Wraps an application with timing. */
export function timing(inner: WSGIApplication): WSGIApplication {
  return async (environ: WSGIEnvironment, startResponse: StartResponse) => {
    const start = performance.now();
    const body = await inner(environ, (status, headers, excInfo) => {
      const ms = (performance.now() - start).toFixed(3);
      return startResponse(
        status,
        [...headers, ["X-Response-Time", `${ms}ms`]],
        excInfo,
      );
    });
    const errors = environ["wsgi.errors"];
    const log = () =>
      errors.write(
        `${environ.REQUEST_METHOD} ${environ.PATH_INFO} took ${
          (performance.now() - start).toFixed(3)
        }ms\n`,
      );
    return wrapClose(body, log);
  };
}

/** The same body, with `onClose` run after the inner close(). */
function wrapClose(body: WSGIBody, onClose: () => void): WSGIBody {
  const inner = body as WSGIBody & { close?: () => unknown };
  const closing = {
    close(): void {
      try {
        inner.close?.();
      } finally {
        onClose();
      }
    },
  };
  if (Symbol.asyncIterator in body) {
    return Object.assign({
      [Symbol.asyncIterator]: () =>
        (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator](),
    }, closing);
  }
  return Object.assign({
    [Symbol.iterator]: () => (body as Iterable<Uint8Array>)[Symbol.iterator](),
  }, closing);
}

/** The demo app, timed. */
export const app: WSGIApplication = timing(demoApp);

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
