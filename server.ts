/**
 * The demo app as a fetch handler module: `deno serve server.ts` (or
 * `deno serve --parallel server.ts`, one process per core) and Bun serve
 * its default export.
 *
 * @module
 */
import { demoApp, toFetchHandler } from "./mod.ts";

/** `{ fetch }` for `deno serve` and Bun. */
const server: { fetch: ReturnType<typeof toFetchHandler> } = {
  fetch: toFetchHandler(demoApp),
};
export default server;
