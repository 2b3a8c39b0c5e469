/**
 * A form that POSTs back to itself; the body is read from `wsgi.input`,
 * synchronously, as in Python.
 *
 *     deno run --allow-net examples/form.ts
 *
 * @module
 */
import {
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts";

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PAGE = `<!doctype html>
<form method="post"><input name="name"> <button>Greet</button></form>`;

/** GET shows the form; POST greets the name it was sent. */
export function app(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
): Uint8Array[] {
  const html: [string, string] = ["Content-Type", "text/html; charset=utf-8"];
  if (environ.REQUEST_METHOD === "POST") {
    const length = Number(environ.CONTENT_LENGTH || 0);
    const body = new TextDecoder().decode(environ["wsgi.input"].read(length));
    const name = new URLSearchParams(body).get("name") || "stranger";
    startResponse("200 OK", [html]);
    return [new TextEncoder().encode(`<p>Hello, ${escape(name)}!</p>`)];
  }
  if (environ.REQUEST_METHOD !== "GET") {
    startResponse("405 Method Not Allowed", [html, ["Allow", "GET, POST"]]);
    return [];
  }
  startResponse("200 OK", [html]);
  return [new TextEncoder().encode(PAGE)];
}

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
