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
import {
  type ForwardedHeaders,
  type Forwarding,
  peerTrusted,
  type ProxyTrust,
  resolveForwarded,
  show,
  TRUST,
  type TrustedOptions,
  trustsNobody,
} from "./_forwarded.ts";

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
  /**
   * True when the server has no body to give for this request whatever its
   * headers announce (Bun drops the body of a GET, HEAD or TRACE request):
   * `CONTENT_LENGTH` is then `""`, as `wsgi.input` is empty, never a length
   * the application could not read.
   */
  bodyDropped?: boolean;
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
  // Repeats are joined as Fetch's `Headers` joins them, so HTTP_* values
  // are the same on every runtime: ", " as RFC 9110 §5.3 recommends for
  // combining field lines, and "; " for Cookie (RFC 9113 §8.2.3: a Cookie
  // is a "; "-separated list, which ", " would corrupt). wsgiref joins
  // with a bare ",".
  env[key] = prev === undefined
    ? value
    : prev + (cgi === "COOKIE" ? "; " : ", ") + value;
}

// The keys of the forwarded headers, removed when an untrusted peer sent
// them (see LazyKeys.resolve).
const FORWARDED_KEYS = [
  "HTTP_FORWARDED",
  "HTTP_X_FORWARDED_FOR",
  "HTTP_X_FORWARDED_PROTO",
  "HTTP_X_FORWARDED_HOST",
  "HTTP_X_FORWARDED_PORT",
];

function fillLazy(
  env: WSGIEnvironment,
  facts: RequestFacts,
  underscores: boolean,
  fwd: Forwarding | typeof UNTRUSTED | null,
): void {
  if (fwd !== null && fwd !== UNTRUSTED && fwd.remoteAddr !== undefined) {
    env.REMOTE_ADDR = fwd.remoteAddr;
    if (fwd.remotePort === undefined) delete env.REMOTE_PORT;
    else env.REMOTE_PORT = String(fwd.remotePort);
  } else {
    env.REMOTE_ADDR = facts.remoteAddr ?? "";
    if ("REMOTE_PORT" in env) {
      const port = facts.remotePort;
      if (port === undefined) delete env.REMOTE_PORT;
      else env.REMOTE_PORT = String(port);
    }
  }
  const headers = facts.headers;
  // wsgiref's defaults: text/plain (the email package's default), and ""
  // for a body without Content-Length.
  env.CONTENT_TYPE = getHeader(headers, "content-type") ?? "text/plain";
  const length = getHeader(headers, "content-length");
  env.CONTENT_LENGTH = length === null || (facts.bodyDropped && length !== "0")
    ? ""
    : length;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      addHeader(env, headers[i], trimOws(headers[i + 1]), underscores);
    }
  } else {
    for (const [name, value] of headers as Headers) {
      // Fetch already joins repeats, except Set-Cookie (not a request header).
      addHeader(env, name, value, underscores);
    }
  }
  if (fwd === UNTRUSTED) {
    // Not believed, and not passed on either (as waitress does): an app or
    // middleware reading HTTP_X_FORWARDED_FOR itself would otherwise be
    // fooled by any client. Only a trusted proxy's headers reach the app.
    for (const key of FORWARDED_KEYS) delete env[key];
  } else if (fwd !== null && fwd.host !== undefined) {
    env.HTTP_HOST = fwd.host;
  }
}

/**
 * The forwarded headers of a request, or null when it has none: the one
 * check every request pays, and only when the app reads a key they affect.
 */
function forwardedHeaders(
  headers: Headers | readonly string[],
): ForwardedHeaders | null {
  let h: ForwardedHeaders;
  if (!Array.isArray(headers)) {
    const web = headers as Headers;
    h = {
      forwarded: web.get("forwarded"),
      xFor: web.get("x-forwarded-for"),
      xProto: web.get("x-forwarded-proto"),
      xHost: web.get("x-forwarded-host"),
      xPort: web.get("x-forwarded-port"),
    };
  } else {
    h = { forwarded: null, xFor: null, xProto: null, xHost: null, xPort: null };
    let found = false;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i];
      const len = name.length;
      // Only names of these lengths can match: forwarded (9),
      // x-forwarded-for (15), -host/-port (16), -proto (17).
      if (len !== 9 && (len < 15 || len > 17)) continue;
      const lower = name.toLowerCase();
      let key: keyof ForwardedHeaders;
      if (lower === "forwarded") key = "forwarded";
      else if (lower === "x-forwarded-for") key = "xFor";
      else if (lower === "x-forwarded-proto") key = "xProto";
      else if (lower === "x-forwarded-host") key = "xHost";
      else if (lower === "x-forwarded-port") key = "xPort";
      else continue;
      // Several lines form one list, in order (RFC 9110 §5.3, RFC 7239
      // §7.1), joined as Fetch joins them.
      const value = headers[i + 1].replace(/^[ \t]+|[ \t]+$/g, "");
      const prev = h[key];
      h[key] = prev === null ? value : prev + ", " + value;
      found = true;
    }
    return found ? h : null;
  }
  return h.forwarded === null && h.xFor === null && h.xProto === null &&
      h.xHost === null && h.xPort === null
    ? null
    : h;
}

/**
 * Strips a field value's leading and trailing whitespace: only SP and HTAB,
 * the OWS of RFC 9110 §5.5 (`String.prototype.trim` would also strip 0xA0,
 * VT, FF, CR and LF, which are part of a value or not whitespace at all).
 */
function trimOws(value: string): string {
  let end = value.length;
  let start = 0;
  let c = value.charCodeAt(0);
  while (c === 32 || c === 9) c = value.charCodeAt(++start);
  if (start === end) return "";
  c = value.charCodeAt(end - 1);
  while (c === 32 || c === 9) c = value.charCodeAt(--end - 1);
  return start === 0 && end === value.length ? value : value.slice(start, end);
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
      return trimOws(headers[i + 1]);
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

/** True for the keys a trusted proxy's headers may change besides those. */
function isServerKey(key: string | symbol): boolean {
  return key === "wsgi.url_scheme" || key === "SERVER_NAME" ||
    key === "SERVER_PORT";
}

/** The peer is not trusted: forwarded headers are ignored and removed. */
const UNTRUSTED = Symbol("untrusted");

/**
 * Wraps the environ so that the keys made from request headers (`HTTP_*`,
 * `CONTENT_TYPE`, `CONTENT_LENGTH`) and from the peer (`REMOTE_ADDR`,
 * `REMOTE_PORT`) are filled only when first needed: reading, testing,
 * setting or deleting such a key, or listing the keys. Until then neither
 * is asked of the runtime. On Deno, merely touching `Request.headers` cost
 * 6% of a whole request (Deno then copies every header when the response
 * ends), reading `info.remoteAddr` 8%, and iterating the headers more than
 * everything else together. Once filled, the environ behaves exactly as the
 * plain object it wraps. Behind trusted proxies, `wsgi.url_scheme`,
 * `SERVER_NAME` and `SERVER_PORT` are settled on first use too.
 */
function lazy(
  env: WSGIEnvironment,
  facts: RequestFacts,
  underscores: boolean,
  trust: ProxyTrust | null,
): WSGIEnvironment {
  return new Proxy(env, new LazyKeys(facts, underscores, trust));
}

/**
 * The Proxy handler behind {@linkcode lazy}: a class, so that its traps are
 * shared by every request instead of made anew as closures for each.
 */
class LazyKeys implements ProxyHandler<WSGIEnvironment> {
  facts: RequestFacts | null;
  underscores: boolean;
  trust: ProxyTrust | null;
  /** Whether a proxy may change the server keys (not with an empty list). */
  serverKeys: boolean;
  /** What the forwarded headers say; undefined until asked. */
  fwd: Forwarding | typeof UNTRUSTED | null | undefined = undefined;

  constructor(
    facts: RequestFacts,
    underscores: boolean,
    trust: ProxyTrust | null,
  ) {
    this.facts = facts;
    this.underscores = underscores;
    this.trust = trust;
    this.serverKeys = trust !== null && !trustsNobody(trust);
  }

  load(target: WSGIEnvironment, key: string | symbol | null): void {
    const facts = this.facts;
    if (facts === null) return;
    if (key === null || isLazyKey(key)) {
      this.facts = null;
      const fwd = this.trust === null ? null : this.resolve(target, facts);
      fillLazy(target, facts, this.underscores, fwd);
    } else if (this.serverKeys && this.fwd === undefined && isServerKey(key)) {
      this.resolve(target, facts);
    }
  }

  /**
   * Settles what the forwarded headers say, once: nothing when there are
   * none (one check: the common case pays no more), ignored when the peer
   * is not trusted, else applied to the server keys (the others are set
   * by fillLazy).
   */
  resolve(
    target: WSGIEnvironment,
    facts: RequestFacts,
  ): Forwarding | typeof UNTRUSTED | null {
    if (this.fwd !== undefined) return this.fwd;
    const trust = this.trust!;
    const h = forwardedHeaders(facts.headers);
    if (h === null) return this.fwd = null;
    if (!peerTrusted(trust, facts.remoteAddr ?? "")) {
      return this.fwd = UNTRUSTED;
    }
    const errors = target["wsgi.errors"] as ErrorStream;
    const peer = facts.remoteAddr || "a unix socket";
    const fwd = resolveForwarded(
      h,
      trust,
      target["wsgi.url_scheme"] === "https" ? "https" : "http",
      (message) => {
        // Bad input is named, and the request still served (the value is
        // ignored): see the README, "Behind a proxy".
        try {
          errors.write(`wsgi: from ${show(peer)}: ${message}\n`);
          errors.flush();
        } catch {
          // A broken error stream must not fail the request.
        }
      },
    );
    if (fwd.scheme !== undefined) target["wsgi.url_scheme"] = fwd.scheme;
    if (fwd.serverName !== undefined) target.SERVER_NAME = fwd.serverName;
    if (fwd.serverPort !== undefined) target.SERVER_PORT = fwd.serverPort;
    return this.fwd = fwd;
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
    // A server's trusted proxies, under a private key (see withTrust);
    // without it, forwarded headers are plain headers, as handleRequest
    // and a direct call see them.
    (options as TrustedOptions)[TRUST] ?? null,
  );
}
