// What the PROXY protocol tests share (proxy_protocol, front): an app that
// answers with what the server decided (the peer, the scheme, the target)
// and the body it read, served by makeServer on a free port for the length
// of `run`; and a connection refused unanswered.
import {
  makeServer,
  type ServerOptions,
  type WSGIApplication,
  type WSGIEnvironment,
} from "../mod.ts";
import assert from "node:assert/strict";
import { connect } from "./_raw_http.ts";

const KEYS = [
  "REMOTE_ADDR",
  "REMOTE_PORT",
  "wsgi.url_scheme",
  "REQUEST_METHOD",
  "PATH_INFO",
  "QUERY_STRING",
];

/** Answers with the keys above and the body it read. */
export const echo: WSGIApplication = (
  environ: WSGIEnvironment,
  startResponse,
) => {
  const seen: Record<string, string> = {};
  for (const key of KEYS) seen[key] = String(environ[key]);
  const input = environ["wsgi.input"] as { read(): Uint8Array };
  seen.body = new TextDecoder().decode(input.read());
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [new TextEncoder().encode(JSON.stringify(seen))];
};

/** Runs `run` against a makeServer of `echo` with these options. */
export async function serving(
  options: ServerOptions,
  run: (port: number) => Promise<void>,
): Promise<void> {
  const server = makeServer("127.0.0.1", 0, echo, { log: false, ...options });
  await server.ready;
  try {
    await run(server.serverPort);
  } finally {
    await server.shutdown();
  }
}

/** Sends `data` and expects the connection closed with no response. */
export async function refused(
  port: number,
  data: Uint8Array | string,
): Promise<void> {
  const conn = await connect(port);
  try {
    await conn.write(data).catch(() => {});
    assert.equal(await conn.waitClosed(5000), true, "connection not closed");
    assert.equal(conn.buffered.length, 0, "a response was sent");
  } finally {
    conn.destroy();
  }
}
