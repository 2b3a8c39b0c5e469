/**
 * The runtime-agnostic core: a Web `Request` in, a Web `Response` out, with
 * a WSGI application in between.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  WSGIApplication,
} from "./types.ts";
import type { RequestFacts } from "./environ.ts";
import { DEFAULT_MAX_BODY_SIZE, type WSGIOptions } from "./options.ts";
import { serveFacts } from "./_serve.ts";
import {
  OFF_WIRE,
  ON_WIRE,
  type ResponseMode,
  toResponse,
} from "./_response/web_response.ts";
import { badHost } from "./_response/answers.ts";
import { authorityOf, targetAt, targetFrom } from "./_target.ts";
import { textToNative } from "./_latin1.ts";
import { isValidHost } from "./_forwarded/host.ts";
import { checkOptions, type OptionNames } from "./_options.ts";

export type { WSGIOptions };
export { DEFAULT_MAX_BODY_SIZE };

// Every WSGIOptions name, checked once by toFetchHandler and handleRequest
// (unknown names are a TypeError, see _options.ts). Adding an option? List
// it here and in the lists that extend this one, in _create_server.ts and
// test_client.ts: the compiler insists.
const WSGI_OPTION_NAMES: OptionNames<WSGIOptions> = {
  errors: true,
  allowUnderscoreHeaders: true,
  serverSoftware: true,
  maxBodySize: true,
  bufferInput: true,
};

// Options objects handleRequest has already checked: a server calling it
// for each request pays one WeakSet lookup, not a check.
const checked = new WeakSet<object>();
const NO_OPTIONS: WSGIOptions = Object.freeze({});

/**
 * Facts about the connection that a `Request` does not carry.
 *
 * @example Usage
 * ```ts
 * import type { ConnectionInfo } from "@wsgi/wsgi";
 * const conn: ConnectionInfo = { remoteAddr: "127.0.0.1", remotePort: 50000 };
 * ```
 */
export interface ConnectionInfo {
  /** `REMOTE_ADDR`. */
  remoteAddr?: string;
  /** `REMOTE_PORT`. */
  remotePort?: number;
  /** `SERVER_NAME`; by default the request URL's host name. */
  serverName?: string;
  /** `SERVER_PORT`; by default the request URL's port. */
  serverPort?: number | string;
  /** `wsgi.url_scheme`; by default the request URL's scheme. */
  scheme?: "http" | "https";
  /** `SERVER_PROTOCOL`. @default {"HTTP/1.1"} */
  protocol?: string;
}

/**
 * The parts of `Request.url` (see _target.ts). The target starts where the
 * authority ends only because `respond` has refused every Host that could
 * hold a "/" (see isValidHost in _forwarded/host.ts).
 */
function parseUrl(url: string): {
  target: string;
  host: string;
  port: string;
  scheme: "http" | "https";
} {
  const at = targetAt(url);
  // The raw request-target as the runtime kept it: Deno keeps the client's
  // bytes (so PATH_INFO matches wsgiref's exactly); Bun hands over a
  // normalised URL (dot segments resolved, non-ASCII percent-encoded).
  const target = textToNative(targetFrom(url, at));
  // Bun's bare target, with no scheme or host to cut off.
  if (at === 0) return { target, host: "", port: "", scheme: "http" };
  const scheme = url.startsWith("https") ? "https" : "http";
  const authority = authorityOf(url, at);
  const user = authority.lastIndexOf("@");
  const hostPort = user === -1 ? authority : authority.slice(user + 1);
  const colon = hostPort.lastIndexOf(":");
  const bracket = hostPort.lastIndexOf("]");
  if (colon > bracket) {
    return {
      target,
      host: hostPort.slice(0, colon),
      port: hostPort.slice(colon + 1),
      scheme,
    };
  }
  return {
    target,
    host: hostPort,
    port: scheme === "https" ? "443" : "80",
    scheme,
  };
}

/**
 * Runs a WSGI application for one Web `Request` and returns its `Response`.
 * Never rejects: a failing application becomes wsgiref's 500 page, with the
 * stack written to `wsgi.errors`. A request whose Host header is not
 * `host[:port]` (RFC 9110 §7.2) gets `400 Bad Request`: Deno and workerd
 * put that header into `request.url`, where it could shift the path.
 *
 * @example Usage
 * ```ts
 * import { handleRequest } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * function app(_environ: unknown, startResponse: (s: string, h: [string, string][]) => unknown) {
 *   startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
 *   return [new TextEncoder().encode("¡Hola, mundo!")];
 * }
 * const response = await handleRequest(new Request("http://localhost/"), app);
 * assert.equal(await response.text(), "¡Hola, mundo!");
 * ```
 *
 * @param request The request.
 * @param app The WSGI application.
 * @param options Body limit, buffering, error stream, header policy.
 * @param conn What the request does not carry: the client's address, and
 *   the server's name and port when they differ from the URL's.
 * @returns The response.
 */
export function handleRequest<
  Input extends InputStream | AsyncInputStream = InputStream,
>(
  request: Request,
  app: WSGIApplication<Input>,
  options: WSGIOptions = NO_OPTIONS,
  conn: ConnectionInfo = {},
): Promise<Response> {
  if (options !== NO_OPTIONS && !checked.has(options)) {
    checkOptions(options, WSGI_OPTION_NAMES, "handleRequest()");
    checked.add(options);
  }
  return respond(request, app as WSGIApplication, options, conn, OFF_WIRE);
}

async function respond(
  request: Request,
  app: WSGIApplication,
  options: WSGIOptions,
  conn: ConnectionInfo,
  mode: ResponseMode,
  server?: FetchHandlerInfo,
): Promise<Response> {
  const method = request.method;
  // A header never changes which path the app sees. Deno and workerd put
  // the Host header into Request.url as sent: `GET /real/path` with
  // `Host: evil/admin` and `GET /admin/real/path` with `Host: evil` give
  // the same URL, and with an absolute-form target Deno's URL is the
  // target's, workerd's the Host's. No cut tells them apart, so a Host
  // that is not a host is refused, as RFC 9112 §3.2 asks (400 for "a Host
  // header field with an invalid field value", and for two Host lines,
  // which arrive joined by ", "). One header read per request: under
  // `deno serve`, for an app that reads no header it is about 5% more CPU
  // per request (Deno then builds the Headers object, which an app that
  // reads any header, or a body's length, builds anyway: then no cost
  // beyond noise); under Bun 1-3% (measured, interleaved runs).
  const host = request.headers.get("host");
  if (host !== null && !isValidHost(host)) {
    return toResponse(badHost(host), method === "HEAD", mode);
  }
  const url = parseUrl(request.url);
  const facts: RequestFacts = {
    method,
    target: url.target,
    protocol: conn.protocol,
    headers: request.headers,
    remoteAddr: conn.remoteAddr,
    // A bare target (Bun's, without a Host) names no server: Bun's server
    // does (PEP 3333: SERVER_NAME and SERVER_PORT are never empty).
    serverName: conn.serverName ??
      (url.host || server?.hostname || "localhost"),
    serverPort: conn.serverPort ??
      (url.port ||
        (typeof server?.port === "number" ? String(server.port) : "80")),
    scheme: conn.scheme ?? url.scheme,
  };
  // REMOTE_PORT only where known (an environ key, not an empty one).
  if (conn.remotePort !== undefined) facts.remotePort = conn.remotePort;
  const out = await serveFacts(app, facts, request.body, options);
  return toResponse(out, method === "HEAD", mode);
}

/**
 * The second argument runtimes pass to a fetch handler: Deno's
 * `ServeHandlerInfo` (`remoteAddr`) or Bun's `Server` (`requestIP()`).
 *
 * @example Usage
 * ```ts
 * import type { FetchHandlerInfo } from "@wsgi/wsgi";
 * const info: FetchHandlerInfo = { remoteAddr: { hostname: "127.0.0.1", port: 5000 } };
 * ```
 */
export interface FetchHandlerInfo {
  /**
   * Deno: the client's address (`Deno.Addr`; `transport` lets a unix
   * socket's address, which has no host name, be passed too).
   */
  remoteAddr?: { hostname?: string; port?: number; transport?: string };
  /** Bun: looks up the client's address for a request. */
  requestIP?(request: Request): { address: string; port: number } | null;
  /**
   * Bun: the server's host name, `SERVER_NAME` when Bun's `request.url`
   * names no host (no Host header, or an empty one).
   */
  hostname?: string;
  /** Bun: the server's port, `SERVER_PORT` in that case. */
  port?: number;
}

/**
 * Options for {@linkcode toFetchHandler}: those of every server, and where
 * to find the client's address on the edge.
 *
 * @example Usage
 * ```ts
 * import type { FetchHandlerOptions } from "@wsgi/wsgi";
 * const options: FetchHandlerOptions = { remoteAddrHeader: "CF-Connecting-IP" };
 * ```
 */
export interface FetchHandlerOptions extends WSGIOptions {
  /**
   * A request header to take `REMOTE_ADDR` from, such as
   * `"CF-Connecting-IP"` behind Cloudflare (a Worker sees no peer, so
   * `REMOTE_ADDR` is otherwise `""`). When the request has it, its value
   * replaces the runtime's peer address and `REMOTE_PORT` is left out.
   * Off by default: any client can send this header, so name one only
   * where a proxy you trust always sets it, overwriting the client's. The
   * value is taken whole: name a one-address header (`CF-Connecting-IP`,
   * `X-Real-IP`), not the `X-Forwarded-For` list.
   */
  remoteAddrHeader?: string;
}

// toFetchHandler's names: WSGIOptions' and its own.
const FETCH_OPTION_NAMES: OptionNames<FetchHandlerOptions> = {
  ...WSGI_OPTION_NAMES,
  remoteAddrHeader: true,
};

/**
 * A fetch handler for a WSGI application, `(request, info?, ctx?) =>
 * Promise<Response>`: for `Deno.serve(handler)`, `export default { fetch }`
 * under `deno serve` and Bun, and Cloudflare Workers (workerd, from
 * compatibility date 2022-11-30: streamed bodies need its `ReadableStream`
 * constructor). The runtime's second argument, when it is Deno's info or
 * Bun's server, fills `REMOTE_ADDR` and `REMOTE_PORT`; called with a third
 * (Cloudflare's `fetch(request, env, ctx)`), the second is the Worker's
 * `env`, which says nothing about the client: see `remoteAddrHeader`.
 * A Host header that is not `host[:port]` gets `400`, as with
 * {@linkcode handleRequest}.
 *
 * @example Usage
 * ```ts
 * import { toFetchHandler } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const fetch = toFetchHandler((environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode(`${environ.PATH_INFO}`)];
 * });
 * const response = await fetch(new Request("http://localhost/hello"));
 * assert.equal(await response.text(), "/hello");
 * ```
 *
 * @param app The WSGI application.
 * @param options Body limit, buffering, error stream, header policy.
 * @returns The fetch handler.
 */
export function toFetchHandler<
  Input extends InputStream | AsyncInputStream = InputStream,
>(
  app: WSGIApplication<Input>,
  options: FetchHandlerOptions = {},
): (
  request: Request,
  info?: FetchHandlerInfo,
  ctx?: unknown,
) => Promise<Response> {
  checkOptions(options, FETCH_OPTION_NAMES, "toFetchHandler()");
  const header = options.remoteAddrHeader;
  if (header !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    // RFC 9110 §5.1: a field name is a token.
    throw new TypeError(
      `remoteAddrHeader must be a header name, got ${JSON.stringify(header)}`,
    );
  }
  return (request, info, ctx) => {
    let conn: ConnectionInfo = {};
    if (ctx !== undefined) {
      // Cloudflare's fetch(request, env, ctx): `env` holds the Worker's
      // bindings, one of which may well be called remoteAddr.
    } else if (info?.remoteAddr) {
      conn = {
        remoteAddr: info.remoteAddr.hostname,
        remotePort: info.remoteAddr.port,
      };
    } else if (typeof info?.requestIP === "function") {
      const ip = info.requestIP(request);
      if (ip) conn = { remoteAddr: ip.address, remotePort: ip.port };
    }
    if (header !== undefined) {
      const value = request.headers.get(header);
      // The address the trusted proxy saw; the peer's port is not its port.
      if (value !== null) conn = { remoteAddr: value.trim() };
    }
    // Called with the runtime's second argument, the Response goes on the
    // wire (deno serve, Bun): see ResponseMode's `onWire`.
    return respond(
      request,
      app as WSGIApplication,
      options,
      conn,
      info !== undefined ? ON_WIRE : OFF_WIRE,
      ctx === undefined ? info : undefined,
    );
  };
}
