// The request-target, cut out of `Request.url`: one parser for the fetch
// handler (handleRequest, toFetchHandler) and the Deno and Bun shims. Each
// runtime builds the URL its own way: Deno and workerd as scheme, "://",
// the Host header as sent, then the target as sent; Bun normalised (dot
// segments resolved, non-ASCII percent-encoded), and the bare target, with
// no scheme or host, when Host is missing, empty or not a host.
import { nativeToBytes } from "./_latin1.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Where the request-target begins in `url`: 0 for Bun's bare target (it
 * starts with "/"), else the end of the authority after "://", which is
 * `url.length` when there is no target; -1 when it cannot be told.
 *
 * With `host` (the Host header as sent, on Deno), the authority is cut off
 * by that header's own length, so that a Host holding a "/" (`evil/admin`,
 * `evil/..`) can never shift the path. Without a Host, with an empty one
 * or one that is not UTF-8, Deno puts "localhost:PORT" there; for an
 * absolute-form target (`GET http://h/p`) the URL is the target itself
 * (RFC 9112 §3.2.2: its authority wins over Host). -1 when the Host holds a
 * "/" that is not where the URL has it: the request is refused. One case
 * stays ambiguous, and is read as the origin form: an absolute-form target
 * whose authority and path begin with a Host that holds a "/" (a proxy's
 * form with an invalid Host).
 *
 * Without `host` (Bun, whose host is parsed as a URL host; the fetch
 * handler, which has refused every Host that could hold one: see
 * isValidHost), the authority ends at the first "/", "?" or "#" (RFC 3986
 * §3.2).
 */
export function targetAt(url: string, host: string | null = null): number {
  if (url.charCodeAt(0) === 47) return 0; // "/": Bun's bare target
  const start = url.indexOf("://") + 3;
  if (host) {
    // The common case: an ASCII Host, found where it belongs.
    const end = start + host.length;
    if (url.startsWith(host, start) && url.charCodeAt(end) === 47) return end;
    let shown: string | null = null;
    try {
      // The header is a native string: one character per byte; Deno
      // decodes it as UTF-8 into the URL.
      shown = utf8.decode(nativeToBytes(host));
    } catch {
      // Not UTF-8: Deno put "localhost:PORT" there instead.
    }
    if (shown !== null && shown !== host) {
      const end = start + shown.length;
      if (url.startsWith(shown, start) && url.charCodeAt(end) === 47) {
        return end;
      }
    }
    if (host.includes("/")) return -1;
  }
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) return i; // "/", "?", "#"
  }
  return url.length;
}

/**
 * The target that begins at `at` (see {@linkcode targetAt}): "/" when
 * there is none, and a query with no path gets one ("?a" is "/?a").
 */
export function targetFrom(url: string, at: number): string {
  if (at === url.length) return "/";
  return url.charCodeAt(at) === 47 ? url.slice(at) : "/" + url.slice(at);
}

/** The authority of a URL whose target begins at `at` (not 0). */
export function authorityOf(url: string, at: number): string {
  return url.slice(url.indexOf("://") + 3, at);
}
