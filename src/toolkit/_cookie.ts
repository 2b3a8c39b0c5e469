// Cookie parsing and Set-Cookie serialisation (RFC 6265), as werkzeug does
// both (`parse_cookie`, `dump_cookie`, 2.3 and later).
import type { CookieOptions } from "./cookie_options.ts";
import { nativeText } from "./_native.ts";

// werkzeug's `_cookie_re`: a name without `=` or `;`, then an optional
// value, either a quoted string (which may hold `;` and `\"`) or anything
// up to the next `;`. RFC 6265 §5.4 has browsers send `name=value` pairs
// joined by "; "; what else arrives is hostile and must not change which
// cookies are seen beyond itself.
const COOKIE = /([^=;]*)(?:\s*=\s*("(?:[^\\"]|\\.)*"|.*?))?\s*;\s*/gs;
// werkzeug's `_cookie_unslash_re`: `\ooo` octal bytes and `\x` escapes
// inside a quoted value (what Python's http.cookies writes).
const UNSLASH = /\\([0-3][0-7]{2}|[\s\S])/g;

// A quoted value's bytes: each code unit is one byte (the header is a
// native string), `\ooo` a byte, `\x` the byte x; then UTF-8 with U+FFFD.
function unquote(quoted: string): string {
  const inner = quoted.slice(1, -1).replace(
    UNSLASH,
    (_, e: string) => e.length === 3 ? String.fromCharCode(parseInt(e, 8)) : e,
  );
  return nativeText(inner);
}

/**
 * Every cookie of a `Cookie` header (a native string, as `HTTP_COOKIE`),
 * in order, duplicates kept: names and values decoded as UTF-8 (U+FFFD
 * for bad bytes), quoted values unquoted, pairs without a name dropped.
 */
export function parseCookieHeader(header: string): [string, string][] {
  const out: [string, string][] = [];
  if (!header) return out;
  for (const m of (header + ";").matchAll(COOKIE)) {
    const name = m[1].trim();
    if (!name) continue;
    let value = (m[2] ?? "").trim();
    if (value.length >= 2 && value[0] === '"' && value.at(-1) === '"') {
      value = unquote(value);
    } else value = nativeText(value);
    out.push([nativeText(name), value]);
  }
  return out;
}

// RFC 9110 §5.6.2 token characters: a cookie name (RFC 6265 §4.1.1).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 §4.1.1 cookie-octet: no CTLs, whitespace, DQUOTE, comma,
// semicolon or backslash; optionally the whole value in DQUOTEs.
const COOKIE_VALUE =
  /^(?:[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*|"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")$/;
// An attribute value (RFC 6265 §4.1.1 av-octet): any CHAR but CTLs and ";".
const ATTRIBUTE = /^[\x20-\x3a\x3c-\x7e]*$/;
// A domain: letters, digits, dots and hyphens (an IDN in its A-label form).
const DOMAIN =
  /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

const q = JSON.stringify;

/**
 * A `Set-Cookie` value in werkzeug's attribute order; a TypeError naming
 * the bad name, value or attribute for anything that could split the
 * header or add an attribute (CR, LF, `;`, controls, a bad date).
 */
export function serializeCookie(
  name: string,
  value: string,
  options: CookieOptions,
): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(
      `cookie name ${q(name)} is not a token (RFC 6265 §4.1.1)`,
    );
  }
  if (typeof value !== "string" || !COOKIE_VALUE.test(value)) {
    throw new TypeError(
      `cookie ${name}: value ${q(value)} has characters a cookie may not ` +
        `carry (RFC 6265 §4.1.1: no space, quote, comma, semicolon, ` +
        `backslash or control); encode it first, e.g. encodeURIComponent()`,
    );
  }
  let out = `${name}=${value}`;
  if (options.domain !== undefined) {
    // werkzeug drops a leading dot (RFC 6265 §5.2.3 ignores it anyway).
    if (!DOMAIN.test(options.domain)) {
      throw new TypeError(
        `cookie ${name}: domain ${q(options.domain)} is not a host name`,
      );
    }
    out += `; Domain=${options.domain.replace(/^\./, "")}`;
  }
  let expires = options.expires;
  if (options.maxAge !== undefined) {
    if (!Number.isInteger(options.maxAge)) {
      throw new TypeError(
        `cookie ${name}: maxAge ${options.maxAge} is not a whole number of seconds`,
      );
    }
    // As werkzeug: Max-Age also sets Expires, for clients without Max-Age.
    expires ??= Date.now() + options.maxAge * 1000;
  }
  if (expires !== undefined) {
    const date = expires instanceof Date ? expires : new Date(expires);
    if (Number.isNaN(date.getTime())) {
      throw new TypeError(
        `cookie ${name}: expires ${q(String(expires))} is not a date`,
      );
    }
    out += `; Expires=${date.toUTCString()}`;
  }
  if (options.maxAge !== undefined) out += `; Max-Age=${options.maxAge}`;
  // Partitioned cookies must be Secure (CHIPS); werkzeug forces it too.
  if (options.secure || options.partitioned) out += "; Secure";
  if (options.httpOnly) out += "; HttpOnly";
  const path = options.path === undefined ? "/" : options.path;
  if (path !== null) {
    if (!ATTRIBUTE.test(path)) {
      throw new TypeError(
        `cookie ${name}: path ${q(path)} has a control character or ";"`,
      );
    }
    out += `; Path=${path}`;
  }
  if (options.sameSite !== undefined) {
    const same = String(options.sameSite).toLowerCase();
    if (same !== "strict" && same !== "lax" && same !== "none") {
      throw new TypeError(
        `cookie ${name}: sameSite ${
          q(options.sameSite)
        } is not Strict, Lax or None`,
      );
    }
    out += `; SameSite=${same[0].toUpperCase()}${same.slice(1)}`;
  }
  if (options.partitioned) out += "; Partitioned";
  return out;
}
