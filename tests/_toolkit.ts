// Serving a toolkit app for a test: makeServer on port 0 on this runtime,
// the app wrapped in validator(), no PEP 3333 complaint allowed in
// wsgi.errors, the server shut down whatever happens.
import assert from "node:assert/strict";
import {
  makeServer,
  type ServerOptions,
  validator,
  type WSGIApplication,
  type WSGIServer,
} from "../mod.ts";
import { memoryErrors } from "./_capture.ts";

/** Runs `check` against `app` served over a real socket. */
export async function serving(
  app: WSGIApplication,
  check: (server: WSGIServer, errors: () => string) => Promise<void>,
  options: Omit<ServerOptions, "errors" | "log"> = {},
): Promise<void> {
  const errors = memoryErrors();
  const server = makeServer("127.0.0.1", 0, validator(app), {
    ...options,
    log: false,
    errors,
  });
  try {
    await server.ready;
    await check(server, () => errors.text());
  } finally {
    await server.shutdown();
  }
  assert.doesNotMatch(errors.text(), /WSGIValidationError|WSGIWarning/);
}

/** The server's URL for `path`. */
export const at = (server: WSGIServer, path: string): string =>
  new URL(path, server.url).href;
