/**
 * werkzeug's `DispatcherMiddleware`: {@linkcode dispatcher} mounts WSGI
 * applications under path prefixes.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  WSGIApplication,
} from "../core/types.ts";

const q = JSON.stringify;

/**
 * Several WSGI applications under path prefixes, werkzeug's
 * `DispatcherMiddleware(app, mounts)`, exactly: the longest mounted prefix
 * of `PATH_INFO`, on `/` boundaries only, wins; that part moves to the end
 * of `SCRIPT_NAME` and `PATH_INFO` keeps the rest (PEP 3333's split, as
 * `shiftPathInfo` moves one segment), so `/api/users` under `/api` is
 * `SCRIPT_NAME` `/api`, `PATH_INFO` `/users`; `/api` itself gives `PATH_INFO`
 * `""`. Nothing is normalised or decoded beyond what the server did
 * (`PATH_INFO` is already percent-decoded): `/api/../x` is not `/x`.
 * Requests under no prefix go to `app` with the environ unchanged. The
 * environ is changed in place, as werkzeug does.
 *
 * Prefixes must start with `/` and not end with one (werkzeug would
 * accept `/api/` and then match only the exact path `/api/`).
 *
 * @example Usage
 * ```ts
 * import { testClient, type WSGIApplication } from "@wsgi/wsgi";
 * import { dispatcher } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 *
 * const where: WSGIApplication = (environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode(`${environ.SCRIPT_NAME}|${environ.PATH_INFO}`)];
 * };
 * const app = dispatcher(where, { "/api": where, "/api/v2": where });
 * const client = testClient(app);
 * assert.equal(await (await client.get("/api/v2/users")).text(), "/api/v2|/users");
 * assert.equal(await (await client.get("/api/v20")).text(), "/api|/v20");
 * assert.equal(await (await client.get("/home")).text(), "|/home");
 * ```
 *
 * @param app The application for paths under no prefix.
 * @param mounts Prefix to application.
 * @returns The dispatching application.
 * @throws {TypeError} For a prefix that does not start with `/`, or ends with one.
 */
export function dispatcher<
  I extends InputStream | AsyncInputStream = InputStream,
>(
  app: WSGIApplication<I>,
  mounts: Record<string, WSGIApplication<I>>,
): WSGIApplication<I> {
  const table = new Map<string, WSGIApplication<I>>();
  for (const [prefix, mounted] of Object.entries(mounts)) {
    if (!prefix.startsWith("/") || prefix.endsWith("/")) {
      throw new TypeError(
        `dispatcher(): mount prefix ${
          q(prefix)
        } must start with "/" and not end with one`,
      );
    }
    if (typeof mounted !== "function") {
      throw new TypeError(
        `dispatcher(): the app mounted at ${q(prefix)} is not a function`,
      );
    }
    table.set(prefix, mounted);
  }
  return (environ, startResponse) => {
    // werkzeug's loop: cut the last segment off until a mounted prefix is
    // left; the cut segments are the new PATH_INFO.
    let script = environ.PATH_INFO ?? "";
    let pathInfo = "";
    let target: WSGIApplication<I> | undefined;
    while (script.includes("/")) {
      target = table.get(script);
      if (target) break;
      const cut = script.lastIndexOf("/");
      pathInfo = script.slice(cut) + pathInfo;
      script = script.slice(0, cut);
    }
    if (!target) return app(environ, startResponse);
    environ.SCRIPT_NAME = (environ.SCRIPT_NAME ?? "") + script;
    environ.PATH_INFO = pathInfo;
    return target(environ, startResponse);
  };
}
