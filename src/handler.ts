/**
 * The runtime-agnostic core: a Web `Request` in, a Web `Response` out, with
 * a WSGI application in between.
 *
 * @module
 */
import type { WSGIApplication } from "./types.ts";
import {
  type EnvironOptions,
  getHeader,
  makeEnviron,
  type RequestFacts,
} from "./environ.ts";
import { type Outcome, runApp } from "./_exchange.ts";
import { consoleErrors, logError } from "./_errors.ts";
import { BufferedInput, StreamingInput } from "./_input.ts";
import { type BodySource, iterate, readBody } from "./_body.ts";

/**
 * Options for serving an application.
 *
 * @example Usage
 * ```ts
 * import type { WSGIOptions } from "@wsgi/wsgi";
 * const options: WSGIOptions = { maxBodySize: 1024 * 1024 };
 * ```
 */
export interface WSGIOptions extends EnvironOptions {
  /**
   * The largest request body accepted, in bytes; a larger one gets
   * `413 Content Too Large` and the application is not called.
   * @default {10485760} (10 MiB)
   */
  maxBodySize?: number;
  /**
   * Read the whole body before calling the application, so that
   * `wsgi.input` reads are synchronous, as in Python. With `false`,
   * `wsgi.input` is an {@linkcode AsyncInputStream}: `await
   * input.read()` pulls the body as it arrives (for large uploads).
   * @default {true}
   */
  bufferInput?: boolean;
}

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

/** The default `maxBodySize`: 10 MiB. */
export const DEFAULT_MAX_BODY_SIZE: number = 10 * 1024 * 1024;

const TOO_LARGE = "Content Too Large";

/** A complete answer made by the server itself (413). */
export function plainOutcome(
  code: number,
  reason: string,
  text: string,
): Outcome {
  const body = new TextEncoder().encode(text);
  return {
    code,
    reason,
    headers: [["Content-Type", "text/plain; charset=utf-8"], [
      "Content-Length",
      String(body.length),
    ]],
    body: [body],
    more: null,
    errors: consoleErrors,
  };
}

/** The 413 answer for a body over `limit` bytes. */
export function tooLarge(limit: number): Outcome {
  return plainOutcome(
    413,
    TOO_LARGE,
    `Request body is larger than the limit of ${limit} bytes\n`,
  );
}

/**
 * Runs an application for one request described by `facts`, reading the
 * body from `source`; the part every server shares. Never rejects.
 */
export async function serveFacts(
  app: WSGIApplication,
  facts: RequestFacts,
  source: BodySource | null,
  options: WSGIOptions,
): Promise<Outcome> {
  const limit = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  const declared = getHeader(facts.headers, "content-length");
  // RFC 9110 §15.5.14: refuse before reading when the length is declared.
  if (declared !== null && Number(declared) > limit) return tooLarge(limit);
  let input: unknown;
  if (options.bufferInput === false) {
    input = new StreamingInput(iterate(source), limit);
  } else {
    let data: Uint8Array | null;
    try {
      data = await readBody(source, limit);
    } catch (error) {
      // The client went away or sent a malformed body mid-way.
      logError(options.errors ?? consoleErrors, error);
      return plainOutcome(400, "Bad Request", "Malformed request body\n");
    }
    if (data === null) return tooLarge(limit);
    input = new BufferedInput(data);
  }
  const environ = makeEnviron(facts, input, options);
  if (options.bufferInput !== false && declared === null && source !== null) {
    // A chunked body was read in full: its length is now known, and apps
    // that trust CONTENT_LENGTH (most do) can read it.
    environ.CONTENT_LENGTH = String((input as BufferedInput).length);
  }
  return await runApp(
    app,
    environ,
    (environ["wsgi.errors"] ?? consoleErrors) as never,
    facts.method === "HEAD",
  );
}

// Statuses whose responses never carry a body (Fetch "null body status").
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Called once when a response body has ended: the bytes handed on, and
 * whether it ended well (false: failed or cancelled by the client).
 */
export type OnBodyEnd = (bytes: number, ok: boolean) => void;

/**
 * Makes a Web `Response` from an outcome. A streamed body is a pull-based
 * stream with no read-ahead: each chunk is asked of the application only
 * when the runtime wants one (PEP 3333 forbids delaying a block, and this
 * keeps backpressure), and cancelling it (the client went away) runs the
 * application's close().
 */
export function toResponse(
  out: Outcome,
  isHead: boolean,
  onEnd?: OnBodyEnd | null,
): Response {
  const headers = new Headers();
  for (const [name, value] of out.headers) headers.append(name, value);
  const init = { status: out.code, statusText: out.reason, headers };
  const more = out.more;
  const direct = out.direct;
  if (direct !== undefined && !isHead && !NULL_BODY.has(out.code)) {
    const response = new Response(direct.source, init);
    // A stream now belongs to the Response, which cancels it if the client
    // goes away: closing the wrapper here would cancel it before it is read.
    if (direct.source instanceof Blob) void direct.close();
    onEnd?.(direct.source instanceof Blob ? direct.source.size : 0, true);
    return response;
  }
  if (more === null || isHead || NULL_BODY.has(out.code)) {
    if (more !== null) more.close();
    const bodyless = isHead || NULL_BODY.has(out.code) || out.body.length === 0;
    let bytes = 0;
    for (const c of out.body) bytes += c.length;
    onEnd?.(bodyless ? 0 : bytes, true);
    return new Response(
      bodyless ? null : concat(out.body) as Uint8Array<ArrayBuffer>,
      init,
    );
  }
  let bytes = 0;
  let ended = false;
  const finish = (ok: boolean): void => {
    if (ended) return;
    ended = true;
    onEnd?.(bytes, ok);
  };
  const deliver = (
    c: ReadableStreamDefaultController<Uint8Array>,
    chunk: Uint8Array | null,
  ): void | Promise<void> => {
    if (chunk === null) {
      c.close();
      finish(true);
      return more.close();
    }
    bytes += chunk.length;
    c.enqueue(chunk);
  };
  const fail = (
    c: ReadableStreamDefaultController<Uint8Array>,
    error: unknown,
  ): void | Promise<void> => {
    logError(out.errors, error);
    c.error(error);
    finish(false);
    return more.close();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of out.body) {
        bytes += chunk.length;
        c.enqueue(chunk);
      }
    },
    pull(c) {
      try {
        const chunk = more.next();
        if (chunk instanceof Promise) {
          return chunk.then((v) => deliver(c, v), (e) => fail(c, e));
        }
        return deliver(c, chunk);
      } catch (error) {
        return fail(c, error);
      }
    },
    cancel() {
      finish(false);
      return more.close();
    },
  }, { highWaterMark: 0 });
  return new Response(stream, init);
}

function parseUrl(url: string): {
  target: string;
  host: string;
  port: string;
  scheme: "http" | "https";
} {
  const s = url.indexOf("://");
  const scheme = url.startsWith("https") ? "https" : "http";
  let end = url.length;
  for (let i = s + 3; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) { // "/", "?", "#"
      end = i;
      break;
    }
  }
  const authority = url.slice(s + 3, end);
  const rest = url.slice(end);
  // The raw request-target as the runtime kept it: Deno keeps the client's
  // bytes (so PATH_INFO matches wsgiref's exactly); Bun hands over a
  // normalised URL (dot segments resolved, non-ASCII percent-encoded).
  const target = rest === ""
    ? "/"
    : rest.charCodeAt(0) === 47
    ? rest
    : "/" + rest;
  const at = authority.lastIndexOf("@");
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
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
 * stack written to `wsgi.errors`.
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
export async function handleRequest(
  request: Request,
  app: WSGIApplication,
  options: WSGIOptions = {},
  conn: ConnectionInfo = {},
): Promise<Response> {
  const url = parseUrl(request.url);
  const method = request.method;
  const facts: RequestFacts = {
    method,
    target: url.target,
    protocol: conn.protocol,
    headers: request.headers,
    remoteAddr: conn.remoteAddr,
    remotePort: conn.remotePort,
    serverName: conn.serverName ?? url.host,
    serverPort: conn.serverPort ?? url.port,
    scheme: conn.scheme ?? url.scheme,
  };
  const out = await serveFacts(app, facts, request.body, options);
  return toResponse(out, method === "HEAD");
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
  /** Deno: the client's address. */
  remoteAddr?: { hostname?: string; port?: number };
  /** Bun: looks up the client's address for a request. */
  requestIP?(request: Request): { address: string; port: number } | null;
}

/**
 * A fetch handler for a WSGI application, `(request, info?) =>
 * Promise<Response>`: for `Deno.serve(handler)`, `export default { fetch }`
 * under `deno serve` and Bun, and Cloudflare-style runtimes. The runtime's
 * second argument, when given, fills `REMOTE_ADDR` and `REMOTE_PORT`.
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
export function toFetchHandler(
  app: WSGIApplication,
  options: WSGIOptions = {},
): (request: Request, info?: FetchHandlerInfo) => Promise<Response> {
  return (request, info) => {
    let conn: ConnectionInfo = {};
    if (info?.remoteAddr) {
      conn = {
        remoteAddr: info.remoteAddr.hostname,
        remotePort: info.remoteAddr.port,
      };
    } else if (typeof info?.requestIP === "function") {
      const ip = info.requestIP(request);
      if (ip) conn = { remoteAddr: ip.address, remotePort: ip.port };
    }
    return handleRequest(request, app, options, conn);
  };
}
