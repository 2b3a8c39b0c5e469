/**
 * Building the WSGI environ from a small description of a request, which a
 * Web `Request` and Node's `IncomingMessage` can each supply cheaply.
 *
 * @module
 */
import type { ErrorStream, WSGIEnvironment } from "./types.ts";
import type { RequestFacts } from "./request_facts.ts";
import { consoleErrors } from "./_errors.ts";
import { unquoteToNative } from "./_latin1.ts";
import { fileWrapper } from "./file_wrapper.ts";
import { VERSION } from "./_version.ts";
import { TRUST, type TrustedOptions } from "./_forwarded/proxy_trust.ts";
import { lazy } from "./_lazy_environ.ts";

export type { RequestFacts } from "./request_facts.ts";
export { getHeader } from "./request_headers.ts";

// Adding an option? List its name in WSGI_OPTION_NAMES (handler.ts) and
// the lists that extend it: unknown names are a TypeError.
/**
 * How the environ is filled.
 *
 * @example Usage
 * ```ts
 * import type { EnvironOptions } from "@wsgi/wsgi";
 * const options: EnvironOptions = { allowUnderscoreHeaders: true };
 * ```
 */
export interface EnvironOptions {
  /** `wsgi.errors`; by default a line-buffered stream over `console.error`. */
  errors?: ErrorStream;
  /**
   * Keep request headers whose names contain `_`, as wsgiref does. Off by
   * default: `X_Forwarded_For` would otherwise pose as `X-Forwarded-For`
   * (Django CVE-2015-0219; gunicorn, nginx and Apache drop them too).
   * @default {false}
   */
  allowUnderscoreHeaders?: boolean;
  /** `SERVER_SOFTWARE`. @default {"wsgi/<version>"} */
  serverSoftware?: string;
}

const SERVER_SOFTWARE = `wsgi/${VERSION}`;

/** `wsgi.version`, frozen: PEP 3333's `(1, 0)`. */
const WSGI_VERSION: readonly number[] = Object.freeze([1, 0]);
/**
 * Builds the WSGI environ for one request (PEP 3333, "environ Variables",
 * with wsgiref's `simple_server` defaults): CGI keys as native strings,
 * `HTTP_*` for the headers, and the `wsgi.*` keys. `input` becomes
 * `wsgi.input`.
 *
 * @example Usage
 * ```ts
 * import { makeEnviron } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const environ = makeEnviron({
 *   method: "GET",
 *   target: "/caf%C3%A9?x=1",
 *   headers: new Headers({ "user-agent": "demo" }),
 *   serverName: "localhost",
 *   serverPort: 8000,
 * }, null);
 * assert.equal(environ.PATH_INFO, "/caf\u00c3\u00a9");
 * assert.equal(environ.QUERY_STRING, "x=1");
 * assert.equal(environ.HTTP_USER_AGENT, "demo");
 * ```
 *
 * @param facts The request line, headers and connection.
 * @param input The `wsgi.input` stream (null for an empty body).
 * @param options Error stream, underscore policy, server software.
 * @returns The environ: a plain object as far as any reader can tell.
 */
export function makeEnviron(
  facts: RequestFacts,
  input: unknown,
  options: EnvironOptions = {},
): WSGIEnvironment {
  let target = facts.target;
  if (target.charCodeAt(0) === 47 && target.charCodeAt(1) === 47) {
    // http.server collapses leading slashes ("//evil.example/x" is PATH_INFO
    // "/evil.example/x"), so that an app redirecting to its own path cannot
    // be made to redirect off-site (CPython gh-87389, CVE-2021-28861).
    let i = 2;
    while (target.charCodeAt(i) === 47) i++;
    target = target.slice(i - 1);
  }
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const env: Record<string, unknown> = {
    REQUEST_METHOD: facts.method,
    SCRIPT_NAME: "",
    // wsgiref: `unquote(path, "iso-8859-1")`; no dot-segment removal.
    PATH_INFO: path.indexOf("%") === -1 ? path : unquoteToNative(path),
    QUERY_STRING: q === -1 ? "" : target.slice(q + 1),
    // Filled from the headers on first use (see _lazy_environ.ts).
    CONTENT_TYPE: "",
    CONTENT_LENGTH: "",
    SERVER_NAME: facts.serverName,
    SERVER_PORT: String(facts.serverPort),
    SERVER_PROTOCOL: facts.protocol ?? "HTTP/1.1",
    SERVER_SOFTWARE: options.serverSoftware ?? SERVER_SOFTWARE,
    GATEWAY_INTERFACE: "CGI/1.1",
    // Filled on first use, as the header keys are.
    REMOTE_ADDR: "",
    REMOTE_HOST: "",
    "wsgi.version": WSGI_VERSION,
    "wsgi.url_scheme": facts.scheme ?? "http",
    "wsgi.input": input,
    "wsgi.errors": options.errors ?? consoleErrors,
    "wsgi.multithread": false,
    "wsgi.multiprocess": false,
    "wsgi.run_once": false,
    // The body ends where the stream ends, even without Content-Length
    // (the de facto extension used by mod_wsgi, gunicorn and werkzeug).
    "wsgi.input_terminated": true,
    "wsgi.file_wrapper": fileWrapper,
  };
  // Known to exist before it is read (a getter counts).
  if ("remotePort" in facts) env.REMOTE_PORT = "";
  return lazy(
    env as WSGIEnvironment,
    facts,
    options.allowUnderscoreHeaders === true,
    // A server's trusted proxies, under a private key (see withTrust);
    // without it, forwarded headers are plain headers, as handleRequest
    // and a direct call see them.
    (options as TrustedOptions)[TRUST] ?? null,
  );
}
