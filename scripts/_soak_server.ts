// The server for scripts/soak.ts, run by deno, bun or node:
//
//   <runtime> scripts/_soak_server.ts [port]
//
// It binds 127.0.0.1 (port 0, the default, picks a free one), prints
// "PORT <n>" on stdout once it listens, and serves until killed. The app
// answers GET with a short body and POST with the number of body bytes it
// read from wsgi.input and their sum mod 256, so the client can tell that
// every byte arrived.
import {
  type InputStream,
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
} from "../mod.ts";

const enc = new TextEncoder();

function app(environ: WSGIEnvironment, startResponse: StartResponse) {
  const body = (environ["wsgi.input"] as InputStream).read();
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body[i]) & 0xff;
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [enc.encode(
    environ.REQUEST_METHOD === "POST"
      ? `${body.length} ${sum}`
      : `ok ${environ.PATH_INFO}`,
  )];
}

const g = globalThis as {
  Deno?: { args: string[] };
  process?: { argv: string[] };
};
const args = g.Deno ? g.Deno.args : g.process!.argv.slice(2);
const server = makeServer("127.0.0.1", Number(args[0] ?? 0), app, {
  log: false,
});
await server.ready;
console.log(`PORT ${server.serverPort}`);
await server.serveForever();
