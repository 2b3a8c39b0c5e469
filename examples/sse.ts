/**
 * Server-sent events from an async generator: each event goes out as soon
 * as it is yielded, and the generator is closed when the client leaves.
 * `?count=N&interval=MS` (defaults 10 and 1000).
 *
 *     deno run --allow-net examples/sse.ts
 *     curl -N http://127.0.0.1:8000/
 *
 * @module
 */
import {
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams `count` events, one every `interval` milliseconds. */
export function app(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
): AsyncIterable<Uint8Array> {
  const query = new URLSearchParams(environ.QUERY_STRING);
  const count = Number(query.get("count") ?? 10);
  const interval = Number(query.get("interval") ?? 1000);
  startResponse("200 OK", [
    ["Content-Type", "text/event-stream"],
    ["Cache-Control", "no-cache"],
  ]);
  const encoder = new TextEncoder();
  return (async function* () {
    for (let i = 1; i <= count; i++) {
      if (i > 1) await sleep(interval);
      yield encoder.encode(`id: ${i}\ndata: tick ${i}\n\n`);
    }
  })();
}

if (import.meta.main) {
  const server = makeServer("127.0.0.1", 8000, app);
  await server.ready;
  console.log(`Serving on ${server.url}`);
  await server.serveForever();
}
