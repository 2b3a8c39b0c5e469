/**
 * wsgiref's `util` module: URL reconstruction, path shifting and test
 * environs. Every function gives CPython's output for the same environ.
 *
 * @module
 */
import type { ErrorStream } from "../core/types.ts";

// Every function here takes any object as the environ, complete or not (a
// `WSGIEnvironment` is one), as wsgiref's take any dict: the values are
// checked where they are read.
import { BufferedInput } from "../core/_input.ts";
import { nativeToBytes } from "../core/_latin1.ts";

const q = JSON.stringify;

// A CGI variable as a string; "" when absent or null, like Python's
// `environ.get(key, "")` (every use here treats None and "" alike).
// `need` is Python's `environ[key]`: absence is an error (KeyError there).
function cgi(
  environ: Record<string, unknown>,
  key: string,
  need = false,
): string {
  const value = environ[key];
  if (value == null && need) {
    throw new TypeError(`The environ has no ${q(key)} key`);
  }
  if (value != null && typeof value !== "string") {
    throw new TypeError(
      `environ[${q(key)}] must be a string, got ${typeof value}`,
    );
  }
  return (value ?? "") as string;
}

// `urllib.parse.quote(s, safe, encoding="latin1")`: a byte stays when it is
// a letter, a digit, `_.-~` or in `safe`, else becomes upper-case `%XX`. A
// code unit above 0xFF is an error (UnicodeEncodeError there).
function quote(s: string, safe: string, what: string): string {
  const bytes = nativeToBytes(s, what);
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.\-~]/.test(c) || safe.includes(c)
      ? c
      : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

const utf8 = new TextDecoder();

/**
 * Turns a native string back into the text it encodes: its code units are
 * the request's bytes (PEP 3333, "Unicode Issues"), decoded here as UTF-8,
 * Python's `s.encode("latin-1").decode("utf-8", "replace")`. A request for
 * `/api/caf%C3%A9` arrives as `PATH_INFO` `"/api/cafÃ©"`;
 * `decodeNative(environ.PATH_INFO)` is `"/api/café"`. Bytes that are not
 * UTF-8 become U+FFFD.
 *
 * @example Usage
 * ```ts
 * import { decodeNative } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * assert.equal(decodeNative("/api/caf\u00c3\u00a9"), "/api/café");
 * assert.equal(decodeNative("/caf\u00e9"), "/caf\ufffd"); // latin-1, not UTF-8
 * ```
 *
 * @param s A native string, such as `environ.PATH_INFO` or an `HTTP_*` value.
 * @returns The text, decoded as UTF-8.
 * @throws {TypeError} When `s` has a code unit above 0xFF (it is text
 *   already, not a native string).
 */
export function decodeNative(s: string): string {
  return utf8.decode(nativeToBytes(s, "decodeNative():"));
}

/**
 * wsgiref's `guess_scheme`: `"https"` when `environ.HTTPS` is `"yes"`,
 * `"on"` or `"1"` (exactly, as CGI servers set it), else `"http"`.
 *
 * @example Usage
 * ```ts
 * import { guessScheme } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * assert.equal(guessScheme({ HTTPS: "on" }), "https");
 * assert.equal(guessScheme({}), "http");
 * ```
 *
 * @param environ The WSGI environ.
 * @returns `"https"` or `"http"`.
 */
export function guessScheme(
  environ: Record<string, unknown>,
): "http" | "https" {
  const https = environ.HTTPS;
  return https === "yes" || https === "on" || https === "1" ? "https" : "http";
}

/**
 * wsgiref's `application_uri`: the application's base URI, without
 * `PATH_INFO` or the query: the scheme, `HTTP_HOST` (or `SERVER_NAME` plus
 * a non-default `SERVER_PORT`), then `SCRIPT_NAME` (or `/`) percent-encoded
 * byte by byte.
 *
 * @example Usage
 * ```ts
 * import { applicationUri } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const environ = { "wsgi.url_scheme": "http", SERVER_NAME: "example.com" };
 * Object.assign(environ, { SERVER_PORT: "8080", SCRIPT_NAME: "/caf\u00e9" });
 * assert.equal(applicationUri(environ), "http://example.com:8080/caf%E9");
 * ```
 *
 * @param environ The WSGI environ.
 * @returns The URI.
 * @throws {TypeError} When a key it needs is missing or a value is not a
 *   native string.
 */
export function applicationUri(environ: Record<string, unknown>): string {
  const scheme = cgi(environ, "wsgi.url_scheme", true);
  let url = scheme + "://";
  const host = cgi(environ, "HTTP_HOST");
  if (host) url += host;
  else {
    url += cgi(environ, "SERVER_NAME", true);
    const port = cgi(environ, "SERVER_PORT", true);
    if (port !== (scheme === "https" ? "443" : "80")) url += ":" + port;
  }
  return url + quote(cgi(environ, "SCRIPT_NAME") || "/", "/", "SCRIPT_NAME");
}

/**
 * wsgiref's `request_uri`: {@linkcode applicationUri} plus `PATH_INFO`
 * (percent-encoded, keeping `/;=,`) and, when `includeQuery` is true and
 * it is not empty, `?` and the raw `QUERY_STRING`.
 *
 * @example Usage
 * ```ts
 * import { requestUri } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const environ = { "wsgi.url_scheme": "https", HTTP_HOST: "example.com" };
 * Object.assign(environ, { PATH_INFO: "/a b;c=d", QUERY_STRING: "x=1" });
 * assert.equal(requestUri(environ), "https://example.com/a%20b;c=d?x=1");
 * assert.equal(requestUri(environ, false), "https://example.com/a%20b;c=d");
 * ```
 *
 * @param environ The WSGI environ.
 * @param includeQuery Append the query string. @default {true}
 * @returns The URI.
 * @throws {TypeError} When a key it needs is missing or a value is not a
 *   native string.
 */
export function requestUri(
  environ: Record<string, unknown>,
  includeQuery: boolean = true,
): string {
  let url = applicationUri(environ);
  const path = quote(cgi(environ, "PATH_INFO"), "/;=,", "PATH_INFO");
  // The application URI already ends in "/" when SCRIPT_NAME is empty.
  url += cgi(environ, "SCRIPT_NAME") ? path : path.slice(1);
  const query = cgi(environ, "QUERY_STRING");
  if (includeQuery && query) url += "?" + query;
  return url;
}

// `posixpath.normpath` (for a non-empty path): drops empty and "."
// segments, resolves "..", keeps exactly two leading slashes (POSIX leaves
// "//" implementation-defined).
function normpath(path: string): string {
  let initial = path.startsWith("/") ? 1 : 0;
  if (path.startsWith("//") && !path.startsWith("///")) initial = 2;
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (
      part !== ".." || (!initial && parts.length === 0) ||
      (parts.length > 0 && parts[parts.length - 1] === "..")
    ) parts.push(part);
    else if (parts.length > 0) parts.pop();
  }
  return "/".repeat(initial) + parts.join("/") || ".";
}

/**
 * wsgiref's `shift_path_info`: moves the first segment of `PATH_INFO` to
 * the end of `SCRIPT_NAME` and returns it, **mutating the environ**; null
 * when `PATH_INFO` is empty or the segment is `.`. Empty and `.` segments
 * are dropped (except the last), and `SCRIPT_NAME` is normalised as
 * `posixpath.normpath` does, so `..` climbs. A `PATH_INFO` of `/` returns
 * `""` and adds a trailing `/` to `SCRIPT_NAME`, so `/x` and `/x/` differ.
 *
 * @example Usage
 * ```ts
 * import { shiftPathInfo } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const environ = { SCRIPT_NAME: "/a", PATH_INFO: "/x/y" };
 * assert.equal(shiftPathInfo(environ), "x");
 * assert.deepEqual(environ, { SCRIPT_NAME: "/a/x", PATH_INFO: "/y" });
 * ```
 *
 * @param environ The WSGI environ, changed in place.
 * @returns The segment moved, or null.
 * @throws {TypeError} When a non-empty `PATH_INFO` has no `/` at all.
 */
export function shiftPathInfo(environ: Record<string, unknown>): string | null {
  const pathInfo = cgi(environ, "PATH_INFO");
  if (!pathInfo) return null;
  let parts = pathInfo.split("/");
  if (parts.length < 2) {
    // CPython fails here too (IndexError): PEP 3333 wants a leading "/".
    const why = 'a non-empty PATH_INFO starts with "/" (PEP 3333)';
    throw new TypeError(`PATH_INFO ${q(pathInfo)} has no "/": ${why}`);
  }
  const middle = parts.slice(1, -1).filter((p) => p !== "" && p !== ".");
  parts = [parts[0], ...middle, parts[parts.length - 1]];
  const name = parts[1];
  parts.splice(1, 1);
  let scriptName = normpath(cgi(environ, "SCRIPT_NAME") + "/" + name);
  if (scriptName.endsWith("/")) scriptName = scriptName.slice(0, -1);
  if (!name && !scriptName.endsWith("/")) scriptName += "/";
  environ.SCRIPT_NAME = scriptName;
  environ.PATH_INFO = parts.join("/");
  return name === "." ? null : name;
}

/**
 * An in-memory `wsgi.errors` (Python's `io.StringIO`), as
 * {@linkcode setupTestingDefaults} installs: `getValue()` returns all that
 * was written.
 *
 * @example Usage
 * ```ts
 * import { MemoryErrorStream } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const errors = new MemoryErrorStream();
 * errors.writelines(["a\n", "b\n"]);
 * assert.equal(errors.getValue(), "a\nb\n");
 * ```
 */
export class MemoryErrorStream implements ErrorStream {
  #text = "";

  /** Appends a string. */
  write(s: string): void {
    if (typeof s === "string") this.#text += s;
    else throw new TypeError(`write() takes a string, got ${typeof s}`);
  }

  /** Appends each string of a sequence. */
  writelines(seq: Iterable<string>): void {
    for (const s of seq) this.write(s);
  }

  /** Does nothing: there is no buffer to flush. */
  flush(): void {}

  /** Everything written so far (Python's `StringIO.getvalue()`). */
  getValue(): string {
    return this.#text;
  }
}

/**
 * wsgiref's `setup_testing_defaults`: fills the keys a WSGI environ needs
 * with fake values, for tests; keys already present are kept. Adds
 * `SERVER_NAME` `127.0.0.1`, `SERVER_PROTOCOL` `HTTP/1.0`, `HTTP_HOST`,
 * `REQUEST_METHOD` `GET`, `SCRIPT_NAME` `""` and `PATH_INFO` `/` (only when
 * both are absent), the `wsgi.*` keys (an empty synchronous `wsgi.input`,
 * a {@linkcode MemoryErrorStream}) and `SERVER_PORT` for the scheme.
 *
 * @example Usage
 * ```ts
 * import { requestUri, setupTestingDefaults } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const environ: Record<string, unknown> = { PATH_INFO: "/x" };
 * setupTestingDefaults(environ);
 * assert.equal(requestUri(environ), "http://127.0.0.1/x");
 * assert.deepEqual(environ["wsgi.version"], [1, 0]);
 * ```
 *
 * @param environ The environ to complete, changed in place.
 */
export function setupTestingDefaults(environ: Record<string, unknown>): void {
  const setDefault = (key: string, value: () => unknown): void => {
    if (!(key in environ)) environ[key] = value();
  };
  setDefault("SERVER_NAME", () => "127.0.0.1");
  setDefault("SERVER_PROTOCOL", () => "HTTP/1.0");
  setDefault("HTTP_HOST", () => environ.SERVER_NAME);
  setDefault("REQUEST_METHOD", () => "GET");
  if (!("SCRIPT_NAME" in environ) && !("PATH_INFO" in environ)) {
    environ.SCRIPT_NAME = "";
    environ.PATH_INFO = "/";
  }
  setDefault("wsgi.version", () => [1, 0]);
  for (
    const key of ["wsgi.run_once", "wsgi.multithread", "wsgi.multiprocess"]
  ) {
    setDefault(key, () => false);
  }
  setDefault("wsgi.input", () => new BufferedInput(new Uint8Array(0)));
  setDefault("wsgi.errors", () => new MemoryErrorStream());
  setDefault("wsgi.url_scheme", () => guessScheme(environ));
  const scheme = environ["wsgi.url_scheme"];
  if (scheme === "http") setDefault("SERVER_PORT", () => "80");
  else if (scheme === "https") setDefault("SERVER_PORT", () => "443");
}

// wsgiref's `_hoppish` set. `trailers` (plural) is wsgiref's spelling; the
// header RFC 9110 §6.6.2 names is `Trailer`, which wsgiref does not list.
const HOPPISH = new Set(
  "connection keep-alive proxy-authenticate proxy-authorization te trailers transfer-encoding upgrade"
    .split(" "),
);

/**
 * wsgiref's `is_hop_by_hop`: true for the HTTP/1.1 hop-by-hop header names
 * wsgiref lists (case-insensitive): `Connection`, `Keep-Alive`,
 * `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailers`,
 * `Transfer-Encoding`, `Upgrade`.
 *
 * @example Usage
 * ```ts
 * import { isHopByHop } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * assert.equal(isHopByHop("Keep-Alive"), true);
 * assert.equal(isHopByHop("Content-Type"), false);
 * ```
 *
 * @param name A header name.
 * @returns Whether an application may not send it (PEP 3333).
 */
export function isHopByHop(name: string): boolean {
  return HOPPISH.has(name.toLowerCase());
}
