/**
 * werkzeug's `Request` over a WSGI environ: {@linkcode WSGIRequest}.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  WSGIEnvironment,
} from "../core/types.ts";
import { requestUri } from "../wsgiref/util.ts";
import { HTTPError } from "./http_error.ts";
import { parseCookieHeader } from "./_cookie.ts";
import { nativeText } from "./_native.ts";
import { negotiate } from "./_accept.ts";

/**
 * Limits on what {@linkcode WSGIRequest} reads (werkzeug's
 * `max_content_length`, `max_form_memory_size`, `max_form_parts`). A body
 * over a limit is a 413 {@linkcode HTTPError}, thrown before more than the
 * limit is read.
 *
 * @example Usage
 * ```ts
 * import type { WSGIRequestOptions } from "@wsgi/wsgi/toolkit";
 * const options: WSGIRequestOptions = { maxContentLength: 1 << 20 };
 * ```
 */
export interface WSGIRequestOptions {
  /** The most body bytes read, for any content type. @default {16777216} (16 MiB) */
  maxContentLength?: number;
  /**
   * The most bytes of a body parsed in memory into values: a JSON or
   * urlencoded body as a whole, each non-file field of a multipart body.
   * @default {500000}
   */
  maxFormMemorySize?: number;
  /** The most fields and files in a multipart body. @default {1000} */
  maxFormParts?: number;
}

/** Any environ a server here makes: buffered or streaming `wsgi.input`. */
export type AnyEnvironment = WSGIEnvironment<InputStream | AsyncInputStream>;

const EMPTY = new Uint8Array(0);
const CHUNK = 65536;

/**
 * A request over a WSGI environ, werkzeug's `Request` (named so that it
 * does not shadow the Web `Request`). Everything is computed when first
 * asked and then kept: building one costs nothing, a handler that never
 * reads the cookies never parses them. The body methods are async (they
 * work on buffered and streaming `wsgi.input` alike), read the body once
 * and share it: `await request.form()` after `await request.data()` is
 * fine.
 *
 * Text (`path`, `args`, `cookies`, `form()`) is decoded from the
 * environ's native strings as UTF-8, werkzeug's way, with U+FFFD for bytes
 * that are not UTF-8.
 *
 * @example Usage
 * ```ts
 * import {
 *   type StartResponse,
 *   testClient,
 *   type WSGIEnvironment,
 * } from "@wsgi/wsgi";
 * import { WSGIRequest, WSGIResponse } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 *
 * const app = async (environ: WSGIEnvironment, startResponse: StartResponse) => {
 *   const request = new WSGIRequest(environ);
 *   const { name } = await request.json<{ name: string }>();
 *   const greeting = `${request.method} ${request.path}: hi ${name}`;
 *   return new WSGIResponse(greeting).respond(environ, startResponse);
 * };
 * const res = await testClient(app).post("/caf%C3%A9", {
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ name: "Zoë" }),
 * });
 * assert.equal(await res.text(), "POST /café: hi Zoë");
 * ```
 */
export class WSGIRequest {
  /** The environ this request reads. */
  readonly environ: AnyEnvironment;
  #options: Required<WSGIRequestOptions>;
  #path?: string;
  #args?: URLSearchParams;
  #headers?: Headers;
  #cookies?: Map<string, string>;
  #data?: Promise<Uint8Array>;
  #form?: Promise<[URLSearchParams, Map<string, File[]>]>;

  /**
   * A request over `environ`; nothing is read yet.
   *
   * @param environ The WSGI environ.
   * @param options Body size limits.
   */
  constructor(environ: AnyEnvironment, options: WSGIRequestOptions = {}) {
    this.environ = environ;
    this.#options = {
      maxContentLength: options.maxContentLength ?? 16 * 1024 * 1024,
      maxFormMemorySize: options.maxFormMemorySize ?? 500_000,
      maxFormParts: options.maxFormParts ?? 1000,
    };
  }

  /** The method, upper case: `"GET"`. */
  get method(): string {
    return String(this.environ.REQUEST_METHOD ?? "GET").toUpperCase();
  }

  /**
   * The path below the application's root, as text: `"/" +` PATH_INFO
   * without its leading slashes, decoded as UTF-8 (werkzeug's `path`).
   */
  get path(): string {
    return this.#path ??= "/" +
      nativeText(this.environ.PATH_INFO ?? "").replace(/^\/+/, "");
  }

  /** Where the application is mounted, as text, without a trailing `/` (`""` at the root). */
  get scriptRoot(): string {
    return nativeText(this.environ.SCRIPT_NAME ?? "").replace(/\/+$/, "");
  }

  /** `"http"` or `"https"` (`wsgi.url_scheme`). */
  get scheme(): string {
    return this.environ["wsgi.url_scheme"];
  }

  /**
   * The host the client asked for: the `Host` header, else `SERVER_NAME`
   * and a non-default `SERVER_PORT`; the scheme's default port dropped,
   * as werkzeug does; `""` when it has characters no host name has.
   */
  get host(): string {
    let host = this.environ.HTTP_HOST;
    if (!host) {
      const port = this.environ.SERVER_PORT;
      host = this.environ.SERVER_NAME ?? "";
      if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
      if (port) host += `:${port}`;
    }
    const port = this.scheme === "https" ? ":443" : ":80";
    if (host.endsWith(port)) host = host.slice(0, -port.length);
    return /^[A-Za-z0-9.\-_~!$&'()*+,;=:[\]%]*$/.test(host) ? host : "";
  }

  /** The full URL, percent-encoded (wsgiref's `request_uri`). */
  get url(): string {
    return requestUri(this.environ);
  }

  /** The client's address (`REMOTE_ADDR`). */
  get remoteAddr(): string {
    return this.environ.REMOTE_ADDR ?? "";
  }

  /** The query's parameters, decoded as UTF-8; repeated names kept (`getAll`). */
  get args(): URLSearchParams {
    return this.#args ??= new URLSearchParams(
      nativeText(this.environ.QUERY_STRING ?? ""),
    );
  }

  /**
   * The request headers as a Web `Headers` (their values are the native
   * strings the client sent), built from every `HTTP_*` key when first
   * asked: {@linkcode WSGIRequest.header} is cheaper for one. A header
   * the `Headers` class refuses is left out.
   */
  get headers(): Headers {
    if (this.#headers) return this.#headers;
    const headers = new Headers();
    const environ = this.environ as Record<string, unknown>;
    for (const key in environ) {
      const value = environ[key];
      if (typeof value !== "string") continue;
      let name: string;
      if (key.startsWith("HTTP_")) name = key.slice(5).replaceAll("_", "-");
      else if (key === "CONTENT_TYPE" || key === "CONTENT_LENGTH") {
        if (!value) continue;
        name = key.replace("_", "-");
      } else continue;
      try {
        headers.append(name, value);
      } catch {
        // Not a header value the Web platform accepts: not one to act on.
      }
    }
    return this.#headers = headers;
  }

  /**
   * One request header's value, read straight from its `HTTP_*` key (no
   * `Headers` object built): null when the client did not send it. As in
   * the environ, repeated headers arrive joined by the server.
   *
   * @example Usage
   * ```ts
   * import { WSGIRequest } from "@wsgi/wsgi/toolkit";
   * import { setupTestingDefaults, type WSGIEnvironment } from "@wsgi/wsgi";
   * import assert from "node:assert/strict";
   * const environ: Record<string, unknown> = { HTTP_X_API_KEY: "k1" };
   * setupTestingDefaults(environ);
   * const request = new WSGIRequest(environ as unknown as WSGIEnvironment);
   * assert.equal(request.header("X-Api-Key"), "k1");
   * assert.equal(request.header("x-other"), null);
   * ```
   *
   * @param name The header's name, any case.
   * @returns Its value (a native string), or null.
   */
  header(name: string): string | null {
    const lower = name.toLowerCase();
    const key = lower === "content-type"
      ? "CONTENT_TYPE"
      : lower === "content-length"
      ? "CONTENT_LENGTH"
      : "HTTP_" + lower.toUpperCase().replaceAll("-", "_");
    const value = (this.environ as Record<string, unknown>)[key];
    return typeof value === "string" && value !== "" ? value : null;
  }

  /**
   * The cookies (RFC 6265), name to value: the first value of a repeated
   * name, as werkzeug; quoted values unquoted, nameless pairs dropped,
   * bad UTF-8 as U+FFFD. Nothing is percent-decoded: the value is what the
   * server set.
   */
  get cookies(): ReadonlyMap<string, string> {
    if (this.#cookies) return this.#cookies;
    const cookies = new Map<string, string>();
    for (
      const [name, value] of parseCookieHeader(this.environ.HTTP_COOKIE ?? "")
    ) {
      if (!cookies.has(name)) cookies.set(name, value);
    }
    return this.#cookies = cookies;
  }

  /** The media type of the body, lower case, without parameters: `"application/json"`. */
  get mimetype(): string {
    return (this.environ.CONTENT_TYPE ?? "").split(";")[0].trim().toLowerCase();
  }

  /** `Content-Length` as a number; null when absent or not a number. */
  get contentLength(): number | null {
    const value = this.environ.CONTENT_LENGTH;
    return value && /^\d+$/.test(value) ? Number(value) : null;
  }

  /**
   * The body's bytes, read once from `wsgi.input` (up to `CONTENT_LENGTH`,
   * or to its end when the server marks it terminated). Throws a 413
   * {@linkcode HTTPError} beyond `maxContentLength`, before reading it.
   */
  data(): Promise<Uint8Array> {
    return this.#data ??= this.#read();
  }

  async #read(): Promise<Uint8Array> {
    const limit = this.#options.maxContentLength;
    const length = this.contentLength;
    if (length !== null && length > limit) throw tooLarge(length, limit);
    // werkzeug's get_input_stream: with neither a length nor
    // wsgi.input_terminated the body's end is unknown; PEP 3333 forbids
    // reading past CONTENT_LENGTH, so there is nothing to read.
    if (length === null && !this.environ["wsgi.input_terminated"]) return EMPTY;
    if (length === 0) return EMPTY;
    const input = this.environ["wsgi.input"];
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const want = length === null ? CHUNK : Math.min(CHUNK, length - total);
      if (want <= 0) break;
      const chunk = await input.read(want);
      if (!chunk || chunk.length === 0) break;
      total += chunk.length;
      if (total > limit) throw tooLarge(total, limit);
      chunks.push(chunk);
    }
    if (chunks.length === 1) return chunks[0];
    return new Uint8Array(
      await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
    );
  }

  /** The body as text, decoded by its `charset` (UTF-8 when none or unknown). */
  async text(): Promise<string> {
    return decoderFor(this.environ.CONTENT_TYPE ?? "").decode(
      await this.data(),
    );
  }

  /**
   * The body parsed as JSON (werkzeug's `get_json()`). Throws an
   * {@linkcode HTTPError}: 415 when the body is not `application/json` or
   * `+json` (unless `force`), 413 beyond `maxFormMemorySize`, 400 with the
   * parser's reason when it is not JSON.
   *
   * @param options `force: true` parses whatever the Content-Type says.
   */
  async json<T = unknown>(options: { force?: boolean } = {}): Promise<T> {
    const type = this.mimetype;
    if (
      !options.force && type !== "application/json" &&
      !(type.startsWith("application/") && type.endsWith("+json"))
    ) {
      throw new HTTPError(
        415,
        `expected a JSON body (application/json), got ${JSON.stringify(type)}`,
      );
    }
    const limit = this.#options.maxFormMemorySize;
    const length = this.contentLength;
    if (length !== null && length > limit) throw tooLarge(length, limit);
    const bytes = await this.data();
    if (bytes.length > limit) throw tooLarge(bytes.length, limit);
    const text = new TextDecoder().decode(bytes);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new HTTPError(
        400,
        `the body is not valid JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * The form's text fields, from an `application/x-www-form-urlencoded` or
   * `multipart/form-data` body (the runtime's own `Request.formData()`
   * parses multipart); empty for other bodies. Throws a 400
   * {@linkcode HTTPError} for a malformed body, 413 beyond the limits.
   */
  async form(): Promise<URLSearchParams> {
    return (await this.#parseForm())[0];
  }

  /** The uploaded files of a `multipart/form-data` body, by field name, as Web `File`s. */
  async files(): Promise<Map<string, File[]>> {
    return (await this.#parseForm())[1];
  }

  /** The first file uploaded under `name`; null when there is none. */
  async file(name: string): Promise<File | null> {
    return (await this.files()).get(name)?.[0] ?? null;
  }

  #parseForm(): Promise<[URLSearchParams, Map<string, File[]>]> {
    return this.#form ??= this.#formOf();
  }

  async #formOf(): Promise<[URLSearchParams, Map<string, File[]>]> {
    const fields = new URLSearchParams();
    const files = new Map<string, File[]>();
    const type = this.mimetype;
    const { maxFormMemorySize, maxFormParts } = this.#options;
    if (type === "application/x-www-form-urlencoded") {
      const length = this.contentLength;
      if (length !== null && length > maxFormMemorySize) {
        throw tooLarge(length, maxFormMemorySize);
      }
      const bytes = await this.data();
      if (bytes.length > maxFormMemorySize) {
        throw tooLarge(bytes.length, maxFormMemorySize);
      }
      return [new URLSearchParams(new TextDecoder().decode(bytes)), files];
    }
    if (type !== "multipart/form-data") return [fields, files];
    const body = await this.data();
    let parsed: FormData;
    try {
      // The runtime's own multipart parser (WHATWG Fetch "package data").
      parsed = await new Request("http://localhost/", {
        method: "POST",
        headers: { "Content-Type": this.environ.CONTENT_TYPE },
        body: body as Uint8Array<ArrayBuffer>,
      }).formData();
    } catch (error) {
      throw new HTTPError(400, "the multipart/form-data body is malformed", {
        cause: error,
      });
    }
    let parts = 0;
    for (const [name, value] of parsed) {
      if (++parts > maxFormParts) {
        throw new HTTPError(413, `more than ${maxFormParts} form parts`);
      }
      if (typeof value === "string") {
        if (value.length > maxFormMemorySize) {
          throw tooLarge(value.length, maxFormMemorySize, name);
        }
        fields.append(name, value);
      } else {
        const list = files.get(name);
        if (list) list.push(value);
        else files.set(name, [value]);
      }
    }
    return [fields, files];
  }

  /**
   * Content negotiation on `Accept` (RFC 9110 §12.5.1): the best of the
   * offered types by the client's q-values, in the caller's order on a
   * tie; null when the client accepts none. Short names stand for their
   * types: `json`, `html`, `text`, `xml`, `css`, `js`. No `Accept` header
   * accepts the first.
   *
   * @example Usage
   * ```ts
   * import { WSGIRequest } from "@wsgi/wsgi/toolkit";
   * import { setupTestingDefaults, type WSGIEnvironment } from "@wsgi/wsgi";
   * import assert from "node:assert/strict";
   * const environ: Record<string, unknown> = {
   *   HTTP_ACCEPT: "text/html, application/json;q=0.9",
   * };
   * setupTestingDefaults(environ);
   * const request = new WSGIRequest(environ as unknown as WSGIEnvironment);
   * assert.equal(request.accepts("json", "html"), "html");
   * assert.equal(request.accepts("json"), "json");
   * assert.equal(request.accepts("image/png"), null);
   * ```
   *
   * @param types The types the app can answer with.
   * @returns The chosen one, as given, or null.
   */
  accepts(...types: string[]): string | null {
    return negotiate(this.environ.HTTP_ACCEPT, types);
  }
}

function tooLarge(size: number, limit: number, field?: string): HTTPError {
  const what = field === undefined
    ? "the body"
    : `form field ${JSON.stringify(field)}`;
  return new HTTPError(
    413,
    `${what} (${size} bytes) is over the ${limit}-byte limit`,
  );
}

function decoderFor(contentType: string): TextDecoder {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType);
  if (m) {
    try {
      return new TextDecoder(m[1]);
    } catch {
      // An unknown charset: UTF-8, as werkzeug falls back.
    }
  }
  return new TextDecoder();
}
