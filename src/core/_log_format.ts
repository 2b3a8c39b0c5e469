// gunicorn's access-log format strings (`--access-logformat`), such as
// `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"`, compiled
// once into a function of one request's facts: no format is parsed per
// request. The atoms and their meaning are gunicorn's (glogging.py,
// `Logger.atoms`; docs/source/settings.rst, access_log_format); the escaping
// is stricter than gunicorn's, which escapes only `"`: here no value a
// client sends can end a line or fake a field (see escapeField).
import type { HeaderPair, WSGIEnvironment } from "./types.ts";
import { getHeader } from "./request_headers.ts";
import { peerTrusted, type ProxyTrust } from "./_forwarded/proxy_trust.ts";

/** The request facts an access log reads (WebFacts and NodeFacts have them). */
export interface LoggedFacts {
  method: string;
  target: string;
  protocol?: string;
  headers: Headers | readonly string[];
  scheme?: "http" | "https";
  /** The environ the application saw, or null when it never ran. */
  environ?: WSGIEnvironment | null;
  /** `performance.now()` when the runtime handed the request over (0: not taken). */
  start?: number;
  /**
   * `performance.now()` when the application was called; -1 asks for it
   * (the JSON log's wait), 0: not taken.
   */
  ran?: number;
}

/** One finished request, as every access-log format reads it. */
export interface LogEntry {
  facts: LoggedFacts;
  /** The peer's address (before any proxy trust). */
  peer: string;
  code: number;
  /** The response's header fields, as the application gave them. */
  headers: readonly HeaderPair[];
  /** The Content-Length the server added (not in `headers`), or null. */
  length: number | null;
  /** Body bytes handed to the connection; null when unknown. */
  bytes: number | null;
  /** False when the body failed midway or the client left. */
  complete: boolean;
  /** Seconds from `facts.start` to the end of the response (0 if not timed). */
  seconds: number;
  /** The process id (gunicorn's `p` atom). */
  pid: number;
  /** The server's trusted proxies (forwardedAllowIps), if known. */
  trust?: ProxyTrust;
}

/** A compiled format: one request's line, without its newline. */
export type LineFormat = (entry: LogEntry) => string;

/** gunicorn's default `access_log_format`. */
export const GUNICORN_FORMAT =
  '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';

/** True when `s` holds nothing {@linkcode escapeField} would change. */
function isFieldSafe(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0x7f && c <= 0x9f) ||
      c === 0x2028 || c === 0x2029
    ) return false;
  }
  return true;
}

const FIELD_UNSAFE = /[\x00-\x1f"\\\x7f-\x9f\u2028\u2029]/g;

/**
 * A value a client may have chosen, made safe inside a quoted log field, as
 * nginx escapes its variables: `"` and `\` backslashed (gunicorn escapes
 * only `"`, so a value ending in `\` swallowed its closing quote), control
 * characters (C0, DEL, C1) as `\xNN`, and U+2028/U+2029 (line breaks to
 * some log readers) as `\u2028`/`\u2029`. Nothing then ends a line early.
 */
export function escapeField(s: string): string {
  if (isFieldSafe(s)) return s;
  return s.replace(FIELD_UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '"' || c === "\\") return "\\" + c;
    if (code > 0xff) return "\\u" + code.toString(16);
    return "\\x" + code.toString(16).padStart(2, "0");
  });
}

const MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
const pad = (n: number): string => (n < 10 ? "0" : "") + n;

/** `[DD/Mon/YYYY:HH:MM:SS +ZZZZ]`, local time: Apache's and gunicorn's `t`. */
function clfTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  return `[${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${off < 0 ? "-" : "+"}${
    pad(Math.floor(abs / 60))
  }${pad(abs % 60)}]`;
}

// Made once a second, as the default line's date is.
let clfSecond = -1;
let clfCached = "";
function nowClf(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== clfSecond) {
    clfCached = clfTime(new Date(second * 1000));
    clfSecond = second;
  }
  return clfCached;
}

/** The path of the request-target, before any `?`. */
export function targetPath(target: string): string {
  const q = target.indexOf("?");
  return q === -1 ? target : target.slice(0, q);
}

/** The query of the request-target, after its `?`, or null without one. */
export function targetQuery(target: string): string | null {
  const q = target.indexOf("?");
  return q === -1 ? null : target.slice(q + 1);
}

/** A request header's value, or null. */
export function requestHeader(e: LogEntry, lowerName: string): string | null {
  return getHeader(e.facts.headers, lowerName);
}

/**
 * The client's address: `REMOTE_ADDR` (after proxy trust), else the peer.
 * The environ is asked only when a trusted peer sent a forwarded header:
 * its first `REMOTE_ADDR` fills every key made from the headers (on Deno,
 * gunicorn's format cost 38 µs a request that way, 23.5 µs without:
 * BENCHMARKS.md), for what is the peer in nearly every request.
 */
export function clientAddress(e: LogEntry): string {
  const env = e.facts.environ;
  if (!env || (e.trust && !peerTrusted(e.trust, e.peer))) return e.peer;
  const headers = e.facts.headers;
  if (
    getHeader(headers, "x-forwarded-for") === null &&
    getHeader(headers, "forwarded") === null
  ) return e.peer;
  const addr = env.REMOTE_ADDR;
  return typeof addr === "string" && addr !== "" ? addr : e.peer;
}

/** A response header's value (the last, as in gunicorn), or null. */
function responseHeader(e: LogEntry, lowerName: string): string | null {
  let value: string | null = null;
  for (const [name, v] of e.headers) {
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
      value = v;
    }
  }
  if (value === null && lowerName === "content-length" && e.length !== null) {
    return String(e.length);
  }
  return value;
}

/** The user of `Authorization: Basic`, as gunicorn's `_get_user`, or null. */
export function basicUser(e: LogEntry): string | null {
  const auth = requestHeader(e, "authorization");
  if (auth === null || !/^basic /i.test(auth)) return null;
  try {
    const bytes = Uint8Array.from(
      atob(auth.slice(6).trim()),
      (c) => c.charCodeAt(0),
    );
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const colon = text.indexOf(":");
    return colon === -1 ? null : text.slice(0, colon);
  } catch {
    return null;
  }
}

/** An environ value by name: as given, else upper-cased (gunicorn ignores case). */
function environValue(e: LogEntry, name: string): string | null {
  const env = e.facts.environ;
  if (!env) return null;
  let v = env[name];
  if (v === undefined) v = env[name.toUpperCase()];
  return v === undefined || v === null ? null : String(v);
}

type Atom = (e: LogEntry) => string;

const dash = (v: string | null | undefined): string =>
  v === null || v === undefined || v === "" ? "-" : escapeField(v);
const micros = (e: LogEntry): number => Math.floor(e.seconds * 1e6);

/** gunicorn's atoms (its documentation's table), by name. */
const ATOMS: Record<string, Atom> = {
  h: (e) => dash(clientAddress(e)),
  l: () => "-",
  u: (e) => dash(basicUser(e)),
  t: () => nowClf(),
  r: (e) =>
    escapeField(
      `${e.facts.method} ${e.facts.target} ${e.facts.protocol ?? "HTTP/1.1"}`,
    ),
  m: (e) => escapeField(e.facts.method),
  U: (e) => {
    const path = e.facts.environ?.PATH_INFO;
    return escapeField(
      typeof path === "string" ? path : targetPath(e.facts.target),
    );
  },
  q: (e) => {
    const q = e.facts.environ?.QUERY_STRING;
    return escapeField(
      typeof q === "string" ? q : targetQuery(e.facts.target) ?? "",
    );
  },
  H: (e) => escapeField(e.facts.protocol ?? "HTTP/1.1"),
  s: (e) => String(e.code),
  B: (e) => (e.bytes === null ? "-" : String(e.bytes)),
  b: (e) => (e.bytes === null ? "-" : String(e.bytes)),
  f: (e) => dash(requestHeader(e, "referer")),
  a: (e) => dash(requestHeader(e, "user-agent")),
  T: (e) => String(Math.floor(e.seconds)),
  M: (e) => String(Math.floor(e.seconds * 1000)),
  D: (e) => String(micros(e)),
  L: (e) => {
    const us = micros(e);
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
  },
  p: (e) => `<${e.pid}>`,
};

/** The atoms that need the request's duration. */
const TIMED = new Set(["T", "M", "D", "L"]);

/** A format string compiled: its line function, and whether it is timed. */
interface CompiledFormat {
  format: LineFormat;
  /** Reads the duration: the server then notes when each request came. */
  timed: boolean;
}

/**
 * Compiles a gunicorn `access_log_format`: `%(NAME)s` (or `d`) is an atom,
 * `%({Header}i)s` a request header, `%({Header}o)s` a response header,
 * `%({KEY}e)s` an environ value, `%%` a `%`; the rest is copied. An unknown
 * atom or a stray `%` is a TypeError that names it (gunicorn would print
 * `-`, hiding the typo).
 */
export function compileFormat(text: string): CompiledFormat {
  if (typeof text !== "string") {
    throw new TypeError(
      `access log format must be a string, got ${typeof text}`,
    );
  }
  const parts: (string | Atom)[] = [];
  let timed = false;
  let literal = "";
  const token = /%(?:%|\(([^)]*)\)[-#0 +]*\d*(?:\.\d+)?([sdir]))/y;
  for (let at = 0; at < text.length;) {
    const pct = text.indexOf("%", at);
    if (pct === -1) {
      literal += text.slice(at);
      break;
    }
    literal += text.slice(at, pct);
    token.lastIndex = pct;
    const m = token.exec(text);
    if (m === null) {
      throw new TypeError(
        `access log format: bad "%" at ${pct} in ${
          JSON.stringify(text)
        } (write %(NAME)s, or %% for a "%")`,
      );
    }
    at = token.lastIndex;
    if (m[1] === undefined) {
      literal += "%";
      continue;
    }
    const atom = atomFor(m[1], text);
    if (TIMED.has(m[1])) timed = true;
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push(atom);
  }
  if (literal !== "") parts.push(literal);
  const n = parts.length;
  const format: LineFormat = (e) => {
    let line = "";
    for (let i = 0; i < n; i++) {
      const p = parts[i];
      line += typeof p === "string" ? p : p(e);
    }
    return line;
  };
  return { format, timed };
}

function atomFor(name: string, text: string): Atom {
  const braced = /^\{([^}]*)\}([ioe])$/.exec(name);
  if (braced !== null) {
    const key = braced[1];
    const lower = key.toLowerCase();
    // A header name is a token (RFC 9110 §5.1); Headers.get() would throw
    // on any other, per request.
    if (braced[2] !== "e" && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw new TypeError(
        `access log format: ${JSON.stringify(key)} in ${
          JSON.stringify(text)
        } is not a header name`,
      );
    }
    if (braced[2] === "i") return (e) => dash(requestHeader(e, lower));
    if (braced[2] === "o") return (e) => dash(responseHeader(e, lower));
    return (e) => dash(environValue(e, key));
  }
  if (Object.hasOwn(ATOMS, name)) return ATOMS[name];
  throw new TypeError(
    `access log format: unknown atom ${JSON.stringify(name)} in ${
      JSON.stringify(text)
    } (known: ${Object.keys(ATOMS).join(" ")}, {header}i, {header}o, {key}e)`,
  );
}
