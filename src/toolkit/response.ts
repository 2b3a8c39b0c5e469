/**
 * werkzeug's `Response` for a WSGI app: {@linkcode WSGIResponse}.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../core/types.ts";
import { HTTPError } from "./http_error.ts";
import { phrase, statusLine } from "./_status.ts";
import { serializeCookie } from "./_cookie.ts";
import type { CookieOptions } from "./cookie_options.ts";
import { closingBody } from "./_body.ts";

/**
 * What a {@linkcode WSGIResponse} sends: text (UTF-8), bytes, or chunks of
 * either, synchronously or asynchronously iterable (a generator, a
 * `ReadableStream`), streamed as they come. null sends nothing.
 *
 * @example Usage
 * ```ts
 * import type { ResponseBody } from "@wsgi/wsgi/toolkit";
 * async function* ticks(): AsyncGenerator<string> {
 *   yield "tick\n";
 * }
 * const body: ResponseBody = ticks();
 * ```
 */
export type ResponseBody =
  | string
  | Uint8Array
  | Iterable<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | null;

/**
 * How a {@linkcode WSGIResponse} starts: its status (a number, its phrase
 * added, or a `"NNN Reason"` line), headers and Content-Type.
 *
 * @example Usage
 * ```ts
 * import type { WSGIResponseInit } from "@wsgi/wsgi/toolkit";
 * const init: WSGIResponseInit = { status: 201, contentType: "text/csv" };
 * ```
 */
export interface WSGIResponseInit {
  /** The status. @default {200} */
  status?: number | string;
  /** Response headers. */
  headers?: HeadersInit;
  /** The Content-Type, unless `headers` has one. @default {"text/plain; charset=utf-8"} */
  contentType?: string;
}

const encoder = new TextEncoder();
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const q = JSON.stringify;

/**
 * A response (werkzeug's `Response`): a status, Web `Headers` and a body
 * of text, bytes or chunks. It becomes the WSGI answer through
 * {@linkcode WSGIResponse.respond} (werkzeug's `response(environ,
 * start_response)`) or {@linkcode WSGIResponse.asApp}. A text or bytes
 * body gets its `Content-Length`; an iterable body is streamed, and its
 * iterator is closed (generator `return()`, stream cancel, `close()`)
 * exactly once when the server closes the response. HEAD, 1xx, 204 and
 * 304 answers send no body.
 *
 * @example Usage
 * ```ts
 * import { testClient } from "@wsgi/wsgi";
 * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 *
 * const response = new WSGIResponse("created", { status: 201 })
 *   .setCookie("seen", "1", { httpOnly: true, sameSite: "Lax" });
 * const res = await testClient(response.asApp()).get("/");
 * assert.equal(res.status, 201);
 * assert.equal(await res.text(), "created");
 * assert.equal(res.headers.get("set-cookie"), "seen=1; HttpOnly; Path=/; SameSite=Lax");
 * ```
 */
export class WSGIResponse {
  /** The status code. */
  readonly status: number;
  /** The status line WSGI sends, `"201 Created"`. */
  readonly statusLine: string;
  /** The body, as given. */
  readonly body: ResponseBody;
  #bytes: Uint8Array | null;
  #onClose: (() => void)[] = [];
  // The headers: a Web Headers once asked for (or given), else plain pairs
  // with lower-case names, so that a response nobody inspects costs no
  // Headers object (iterating one sorts and combines it every time).
  #headers: Headers | null = null;
  #pairs: [string, string][] | null = null;

  /**
   * A response with `body`, its status and headers.
   *
   * @param body The body; null or omitted for none.
   * @param init Status, headers and Content-Type.
   * @throws {TypeError} For a bad status or a header value the Web
   *   platform refuses (CR, LF, NUL).
   */
  constructor(body: ResponseBody = null, init: WSGIResponseInit = {}) {
    [this.status, this.statusLine] = statusLine(init.status ?? 200);
    this.body = body;
    this.#bytes = typeof body === "string"
      ? encoder.encode(body)
      : body instanceof Uint8Array
      ? body
      : null;
    const type = init.contentType ?? "text/plain; charset=utf-8";
    if (init.headers !== undefined) {
      const headers = this.#headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("Content-Type", type);
    } else {
      // What Headers would refuse, refused here too (RFC 9110 §5.5).
      if (/[\r\n\0]/.test(type)) {
        throw new TypeError(`contentType ${q(type)} has CR, LF or NUL`);
      }
      this.#pairs = [["content-type", type]];
    }
  }

  /** The response headers, a Web `Headers` (`Set-Cookie` kept one per cookie). */
  get headers(): Headers {
    if (!this.#headers) {
      this.#headers = new Headers(this.#pairs!);
      this.#pairs = null;
    }
    return this.#headers;
  }

  /**
   * A JSON response (`application/json`).
   *
   * @example Usage
   * ```ts
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const response = WSGIResponse.json({ id: 7 }, { status: 201 });
   * assert.equal(response.body, '{"id":7}');
   * assert.equal(response.headers.get("content-type"), "application/json");
   * ```
   *
   * @param data Anything `JSON.stringify` turns into text.
   * @param init Status and headers.
   * @returns The response.
   * @throws {TypeError} When `data` has no JSON form (undefined, a function).
   */
  static json(data: unknown, init: WSGIResponseInit = {}): WSGIResponse {
    const text = JSON.stringify(data);
    if (text === undefined) {
      throw new TypeError(
        `WSGIResponse.json(): ${typeof data} has no JSON form`,
      );
    }
    return new WSGIResponse(text, {
      ...init,
      contentType: init.contentType ?? "application/json",
    });
  }

  /**
   * A redirect (werkzeug's `redirect`, 303 by default as on its main
   * branch): 301, 302, 303, 307 or 308 to `location`. The target is
   * checked: no control characters (CR/LF would split the header), no
   * scheme-relative `//host` or `/\host` (browsers go to another site),
   * only `http:` and `https:` schemes; non-ASCII is percent-encoded.
   *
   * @example Usage
   * ```ts
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const response = WSGIResponse.redirect("/users/7", 308);
   * assert.equal(response.statusLine, "308 Permanent Redirect");
   * assert.equal(response.headers.get("location"), "/users/7");
   * assert.throws(() => WSGIResponse.redirect("//evil.example/"), TypeError);
   * ```
   *
   * @param location Where to: a path or an http(s) URL.
   * @param status The redirect status. @default {303}
   * @returns The response.
   * @throws {TypeError} For a status that is not a redirect or an unsafe
   *   location, naming it.
   */
  static redirect(location: string, status: number = 303): WSGIResponse {
    if (!REDIRECTS.has(status)) {
      throw new TypeError(
        `redirect(): ${status} is not 301, 302, 303, 307 or 308`,
      );
    }
    const target = safeLocation(location);
    return new WSGIResponse(`Redirecting to ${target}\n`, {
      status,
      headers: { Location: target },
    });
  }

  /**
   * An error response: the status, its phrase and `description` as text,
   * with `headers` (`Allow` for a 405).
   *
   * @example Usage
   * ```ts
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const response = WSGIResponse.error(405, undefined, { Allow: "GET, HEAD" });
   * assert.equal(response.statusLine, "405 Method Not Allowed");
   * assert.equal(response.headers.get("allow"), "GET, HEAD");
   * ```
   *
   * @param status The status code.
   * @param description What the client is told, after the status.
   * @param headers Extra headers.
   * @returns The response.
   */
  static error(
    status: number,
    description?: string,
    headers?: HeadersInit,
  ): WSGIResponse {
    // No HTTPError made: capturing a stack costs more than the answer.
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new TypeError(`error(): status ${status} is not a status code`);
    }
    const reason = phrase(status);
    const head = `${status} ${reason}`;
    const text = description === undefined || description === reason
      ? `${head}\n`
      : `${head}\n\n${description}\n`;
    const response = new WSGIResponse(text, { status, headers });
    // An error must not be cached as if it were the resource.
    if (!response.headers.has("cache-control")) {
      response.headers.set("Cache-Control", "no-store");
    }
    // The description may echo the request: never sniffed as HTML.
    response.headers.set("X-Content-Type-Options", "nosniff");
    return response;
  }

  /**
   * The response for a thrown {@linkcode HTTPError} (what the router
   * sends).
   *
   * @example Usage
   * ```ts
   * import { HTTPError, WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const response = WSGIResponse.fromError(new HTTPError(404, "No user 7"));
   * assert.equal(response.body, "404 Not Found\n\nNo user 7\n");
   * ```
   *
   * @param error The error.
   * @returns The response.
   */
  static fromError(error: HTTPError): WSGIResponse {
    return WSGIResponse.error(error.status, error.description, error.headers);
  }

  /**
   * Adds a `Set-Cookie` header (werkzeug's `set_cookie`, same attribute
   * order). The value is sent as it is: it must be RFC 6265 cookie-octets
   * (encode other text first, e.g. with `encodeURIComponent`); a name,
   * value, path or domain that could split the header or add an attribute
   * (CR, LF, `;`, controls, spaces) is a TypeError that names it.
   *
   * @example Usage
   * ```ts
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const response = new WSGIResponse("ok")
   *   .setCookie("id", "abc", { secure: true, partitioned: true, path: null });
   * assert.deepEqual(response.headers.getSetCookie(), ["id=abc; Secure; Partitioned"]);
   * assert.throws(() => response.setCookie("id", "a;b"), /"a;b"/);
   * ```
   *
   * @param name The cookie's name (an RFC 9110 token).
   * @param value Its value.
   * @param options Its attributes (`Path=/` unless `path` says otherwise).
   * @returns This response.
   * @throws {TypeError} For a name, value or attribute that is unsafe.
   */
  setCookie(name: string, value: string, options: CookieOptions = {}): this {
    const cookie = serializeCookie(name, value, options);
    if (this.#pairs) this.#pairs.push(["set-cookie", cookie]);
    else this.headers.append("Set-Cookie", cookie);
    return this;
  }

  /**
   * Tells the client to drop a cookie (werkzeug's `delete_cookie`): an
   * empty value expiring at the epoch, `Max-Age=0`, with the same path and
   * domain it was set with (else the browser keeps it).
   *
   * @example Usage
   * ```ts
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const response = new WSGIResponse("bye").deleteCookie("id");
   * assert.equal(
   *   response.headers.get("set-cookie"),
   *   "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
   * );
   * ```
   *
   * @param name The cookie's name.
   * @param options The attributes it was set with.
   * @returns This response.
   */
  deleteCookie(
    name: string,
    options: Omit<CookieOptions, "maxAge" | "expires"> = {},
  ): this {
    return this.setCookie(name, "", { ...options, expires: 0, maxAge: 0 });
  }

  /**
   * Runs `callback` when the response is closed (werkzeug's
   * `call_on_close`): after the body is sent, or abandoned.
   *
   * @example Usage
   * ```ts
   * import { testClient } from "@wsgi/wsgi";
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * let closed = 0;
   * const response = new WSGIResponse("ok").callOnClose(() => closed++);
   * await (await testClient(response.asApp()).get("/")).text();
   * assert.equal(closed, 1);
   * ```
   *
   * @param callback What to run.
   * @returns This response.
   */
  callOnClose(callback: () => void): this {
    this.#onClose.push(callback);
    return this;
  }

  /**
   * Answers a WSGI request with this response, werkzeug's
   * `response(environ, start_response)`: calls `startResponse` and returns
   * the body iterable, with a `close()` that ends the body's iterator and
   * runs the `callOnClose` callbacks, once.
   *
   * @example Usage
   * ```ts
   * import { testClient, type WSGIApplication } from "@wsgi/wsgi";
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const app: WSGIApplication = (environ, startResponse) =>
   *   new WSGIResponse(`at ${environ.PATH_INFO}`).respond(environ, startResponse);
   * assert.equal(await (await testClient(app).get("/x")).text(), "at /x");
   * ```
   *
   * @param environ The WSGI environ (its method decides whether a body is sent).
   * @param startResponse The server's `start_response`.
   * @returns The WSGI body.
   */
  respond(
    environ: WSGIEnvironment<InputStream | AsyncInputStream>,
    startResponse: StartResponse,
  ): WSGIBody {
    const noBody = environ.REQUEST_METHOD === "HEAD" || this.status < 200 ||
      this.status === 204 || this.status === 304;
    const pairs: [string, string][] = [];
    const empty = this.status < 200 || this.status === 204 ||
      this.status === 304;
    let length = false;
    for (const [name, value] of this.#pairs ?? this.headers) {
      // RFC 9110 §8.6, §15.3.5, §15.4.5: 1xx, 204 and 304 carry no
      // content, so nothing describes one (werkzeug drops these too, and
      // wsgiref's validator refuses a Content-Type there).
      if (name === "content-length") length = true;
      if (empty && (name === "content-length" || name === "content-type")) {
        continue;
      }
      pairs.push([name, value]);
    }
    if (this.#bytes && !length && !empty) {
      pairs.push(["content-length", String(this.#bytes.length)]);
    }
    startResponse(this.statusLine, pairs);
    const onClose = this.#onClose;
    if (this.#bytes) {
      return closingBody(noBody ? [] : [this.#bytes], onClose);
    }
    // Past #bytes, the body is null or an iterable (text and bytes are #bytes).
    const body = this.body as Iterable<string | Uint8Array> | null;
    return closingBody(noBody ? null : body, onClose, noBody ? body : null);
  }

  /**
   * This response as a WSGI application that answers every request with
   * it (mount a fixed page, or return it from middleware).
   *
   * @example Usage
   * ```ts
   * import { testClient } from "@wsgi/wsgi";
   * import { WSGIResponse } from "@wsgi/wsgi/toolkit";
   * import assert from "node:assert/strict";
   * const app = WSGIResponse.error(503).asApp();
   * assert.equal((await testClient(app).get("/")).status, 503);
   * ```
   *
   * @returns The application.
   */
  asApp<
    I extends InputStream | AsyncInputStream = InputStream,
  >(): WSGIApplication<I> {
    return (environ, startResponse) => this.respond(environ, startResponse);
  }
}

// The checks WSGIResponse.redirect() makes on a Location value.
function safeLocation(location: string): string {
  if (typeof location !== "string" || location === "") {
    throw new TypeError(`redirect(): location ${q(location)} is empty`);
  }
  if (/[\x00-\x1f\x7f]/.test(location)) {
    throw new TypeError(
      `redirect(): location ${
        q(location)
      } has a control character (CR/LF would split the header)`,
    );
  }
  // RFC 3986 §4.2: "//host" is a network-path reference, another site;
  // browsers treat "\" as "/" (WHATWG URL), so "/\host" is one too.
  if (/^\s*[\\/][\\/]/.test(location)) {
    throw new TypeError(
      `redirect(): location ${
        q(location)
      } is scheme-relative ("//host"): another site; give a full URL if you mean one`,
    );
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(location);
  if (scheme && !/^https?$/i.test(scheme[1])) {
    throw new TypeError(
      `redirect(): location ${
        q(location)
      }: only http and https URLs are redirect targets`,
    );
  }
  // werkzeug's iri_to_uri for what is not ASCII: percent-encoded UTF-8.
  return location.replace(/[^\x21-\x7e]+/g, (s) => encodeURIComponent(s));
}
