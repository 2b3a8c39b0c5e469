/**
 * Building the WSGI environ from a small description of a request, which a
 * Web `Request` and Node's `IncomingMessage` can each supply cheaply.
 *
 * @module
 */
import type { ErrorStream, WSGIEnvironment } from "./types.ts";
import { consoleErrors } from "./_errors.ts";
import { unquoteToNative } from "./_latin1.ts";
import { fileWrapper } from "./file_wrapper.ts";
import { VERSION } from "./_version.ts";

/**
 * What the environ is made from: the request line, the headers, and the
 * connection. All strings are native strings (bytes shown as latin-1), as
 * `Request.headers` and Node's `rawHeaders` already give them.
 *
 * @example Usage
 * ```ts
 * import type { RequestFacts } from "@wsgi/wsgi";
 * const facts: RequestFacts = {
 *   method: "GET",
 *   target: "/hello?name=world",
 *   headers: new Headers({ host: "example.com" }),
 *   serverName: "example.com",
 *   serverPort: 80,
 * };
 * ```
 */
export interface RequestFacts {
  /** The method token as sent (`REQUEST_METHOD`). */
  method: string;
  /** The raw request-target in origin form: path, then `?query` if any. */
  target: string;
  /** `SERVER_PROTOCOL`, such as `"HTTP/1.1"` (the default). */
  protocol?: string;
  /**
   * The request headers: a Web `Headers`, or Node's flat `rawHeaders` list
   * (`[name, value, name, value, ...]`). They are read only when the
   * application first reads a key made from them (`HTTP_*`, `CONTENT_TYPE`,
   * `CONTENT_LENGTH`) or enumerates the environ; so is `remoteAddr` and
   * `remotePort`. Each may be a getter, so that a runtime is asked for them
   * only when they are needed.
   */
  headers: Headers | readonly string[];
  /** The client's address (`REMOTE_ADDR`). */
  remoteAddr?: string;
  /** The client's port (`REMOTE_PORT`; the key is left out without it). */
  remotePort?: number;
  /** `SERVER_NAME`: the bound host name. */
  serverName: string;
  /** `SERVER_PORT`. */
  serverPort: number | string;
  /** `wsgi.url_scheme`; `"http"` by default. */
  scheme?: "http" | "https";
}

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

// Headers whose CGI name is already an environ key are skipped, exactly as
// wsgiref's `WSGIRequestHandler.get_environ` does: `Content-Type` and
// `Content-Length` become CONTENT_TYPE/CONTENT_LENGTH, never HTTP_CONTENT_*
// (PEP 3333, "environ Variables"), and a `Path-Info` header cannot pose as
// PATH_INFO's twin.
const CGI_KEYS = new Set([
  "CONTENT_TYPE",
  "CONTENT_LENGTH",
  "GATEWAY_INTERFACE",
  "PATH_INFO",
  "QUERY_STRING",
  "REMOTE_ADDR",
  "REMOTE_HOST",
  "REMOTE_PORT",
  "REQUEST_METHOD",
  "SCRIPT_NAME",
  "SERVER_NAME",
  "SERVER_PORT",
  "SERVER_PROTOCOL",
  "SERVER_SOFTWARE",
]);

// Browsers send the same few header names on every request: their CGI
// names are remembered (a bounded cache) rather than built each time.
const cgiNames = new Map<string, string>();

function cgiName(name: string): string {
  let key = cgiNames.get(name);
  if (key !== undefined) return key;
  key = "";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    key += c === 45
      ? "_"
      : c >= 97 && c <= 122
      ? String.fromCharCode(c - 32)
      : name[i];
  }
  if (cgiNames.size < 512) cgiNames.set(name, key);
  return key;
}

function addHeader(
  env: WSGIEnvironment,
  name: string,
  value: string,
  underscores: boolean,
): void {
  if (!underscores && name.includes("_")) return;
  const cgi = cgiName(name);
  if (CGI_KEYS.has(cgi)) return;
  const key = "HTTP_" + cgi;
  const prev = env[key];
  // Repeats are joined as Fetch's `Headers` joins them (", ", and "; " for
  // Cookie per RFC 9113 §8.2.3), so HTTP_* values are the same on every
  // runtime. wsgiref joins with a bare ",".
  env[key] = prev === undefined
    ? value
    : prev + (cgi === "COOKIE" ? "; " : ", ") + value;
}

function fillLazy(
  env: WSGIEnvironment,
  facts: RequestFacts,
  underscores: boolean,
): void {
  env.REMOTE_ADDR = facts.remoteAddr ?? "";
  if ("REMOTE_PORT" in env) {
    const port = facts.remotePort;
    if (port === undefined) delete env.REMOTE_PORT;
    else env.REMOTE_PORT = String(port);
  }
  const headers = facts.headers;
  // wsgiref's defaults: text/plain (the email package's default), and ""
  // for a body without Content-Length.
  env.CONTENT_TYPE = getHeader(headers, "content-type") ?? "text/plain";
  env.CONTENT_LENGTH = getHeader(headers, "content-length") ?? "";
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      addHeader(env, headers[i], headers[i + 1].trim(), underscores);
    }
  } else {
    for (const [name, value] of headers as Headers) {
      // Fetch already joins repeats, except Set-Cookie (not a request header).
      addHeader(env, name, value, underscores);
    }
  }
}

/** Looks a header up case-insensitively; null when absent. */
export function getHeader(
  headers: Headers | readonly string[],
  lowerName: string,
): string | null {
  if (!Array.isArray(headers)) return (headers as Headers).get(lowerName);
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
      return headers[i + 1].trim();
    }
  }
  return null;
}

/** True for the keys filled lazily: from the headers and the peer. */
function isLazyKey(key: string | symbol): boolean {
  if (typeof key !== "string") return false;
  switch (key.charCodeAt(0)) {
    case 72: // "H"
      return key.startsWith("HTTP_");
    case 67: // "C"
      return key === "CONTENT_TYPE" || key === "CONTENT_LENGTH";
    case 82: // "R"
      return key === "REMOTE_ADDR" || key === "REMOTE_PORT";
    default:
      return false;
  }
}

/**
 * Wraps the environ so that the keys made from request headers (`HTTP_*`,
 * `CONTENT_TYPE`, `CONTENT_LENGTH`) and from the peer (`REMOTE_ADDR`,
 * `REMOTE_PORT`) are filled only when first needed: reading, testing,
 * setting or deleting such a key, or listing the keys. Until then neither
 * is asked of the runtime. On Deno, merely touching `Request.headers` cost
 * 6% of a whole request (Deno then copies every header when the response
 * ends), reading `info.remoteAddr` 8%, and iterating the headers more than
 * everything else together. Once filled, the environ behaves exactly as the
 * plain object it wraps.
 */
function lazy(
  env: WSGIEnvironment,
  facts: RequestFacts,
  underscores: boolean,
): WSGIEnvironment {
  return new Proxy(env, new LazyKeys(facts, underscores));
}

/**
 * The Proxy handler behind {@linkcode lazy}: a class, so that its traps are
 * shared by every request instead of made anew as closures for each.
 */
class LazyKeys implements ProxyHandler<WSGIEnvironment> {
  facts: RequestFacts | null;
  underscores: boolean;

  constructor(facts: RequestFacts, underscores: boolean) {
    this.facts = facts;
    this.underscores = underscores;
  }

  load(target: WSGIEnvironment, key: string | symbol | null): void {
    const facts = this.facts;
    if (facts !== null && (key === null || isLazyKey(key))) {
      this.facts = null;
      fillLazy(target, facts, this.underscores);
    }
  }

  get(target: WSGIEnvironment, key: string | symbol): unknown {
    if (this.facts !== null) this.load(target, key);
    return target[key as string];
  }

  has(target: WSGIEnvironment, key: string | symbol): boolean {
    if (this.facts !== null) this.load(target, key);
    return key in target;
  }

  set(target: WSGIEnvironment, key: string | symbol, value: unknown): boolean {
    if (this.facts !== null) this.load(target, key);
    target[key as string] = value;
    return true;
  }

  deleteProperty(target: WSGIEnvironment, key: string | symbol): boolean {
    if (this.facts !== null) this.load(target, key);
    return delete target[key as string];
  }

  defineProperty(
    target: WSGIEnvironment,
    key: string | symbol,
    descriptor: PropertyDescriptor,
  ): boolean {
    if (this.facts !== null) this.load(target, key);
    return Reflect.defineProperty(target, key, descriptor);
  }

  getOwnPropertyDescriptor(
    target: WSGIEnvironment,
    key: string | symbol,
  ): PropertyDescriptor | undefined {
    if (this.facts !== null) this.load(target, key);
    return Reflect.getOwnPropertyDescriptor(target, key);
  }

  ownKeys(target: WSGIEnvironment): (string | symbol)[] {
    if (this.facts !== null) this.load(target, null);
    return Reflect.ownKeys(target);
  }
}

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
  const target = facts.target;
  const q = target.indexOf("?");
  const env: Record<string, unknown> = {
    REQUEST_METHOD: facts.method,
    SCRIPT_NAME: "",
    // wsgiref: `unquote(path, "iso-8859-1")`; no dot-segment removal.
    PATH_INFO: unquoteToNative(q === -1 ? target : target.slice(0, q)),
    QUERY_STRING: q === -1 ? "" : target.slice(q + 1),
    // Filled from the headers on first use (see lazyHeaders).
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
  );
}
