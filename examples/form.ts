/**
 * A form that POSTs back to itself, read with the toolkit's
 * `request.form()` (no hand-written body parsing); the router answers a
 * PUT with 405 and `Allow`.
 *
 *     deno run --allow-net examples/form.ts
 *
 * @module
 */
import { makeServer } from "../mod.ts";
import { Router, WSGIResponse } from "../src/toolkit/mod.ts";

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PAGE = `<!doctype html>
<form method="post"><input name="name"> <button>Greet</button></form>`;
const html = { contentType: "text/html; charset=utf-8" };

const router = new Router()
  .get("/", () => new WSGIResponse(PAGE, html))
  .post("/", async (request) => {
    const name = (await request.form()).get("name") || "stranger";
    return new WSGIResponse(`<p>Hello, ${escape(name)}!</p>`, html);
  });

/** GET shows the form; POST greets the name it was sent. */
export const app = router.asApp();

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
