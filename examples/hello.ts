/**
 * The tutorial's first server ("Primer servidor en Python"), line for line:
 * `make_server(host, port, app)` then `serve_forever()`.
 *
 *     deno run --allow-net examples/hello.ts
 *     bun examples/hello.ts
 *     node examples/hello.ts        (Node 24 runs TypeScript as it is)
 *
 * @module
 */
import {
  type HeaderPair,
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts"; // in your project: "@wsgi/wsgi" (JSR) or "wsgi" (npm)

/** Answers every request with a greeting, as the tutorial's `app()` does. */
export function app(
  _environ: WSGIEnvironment,
  startResponse: StartResponse,
): Uint8Array[] {
  const headers: HeaderPair[] = [["Content-Type", "text/plain; charset=utf-8"]];
  startResponse("200 OK", headers);
  return [new TextEncoder().encode("¡Hola, mundo!")];
}

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
