// A request's headers, as a Web `Headers` or Node's flat `rawHeaders`:
// looking one up, and adding each to the environ as its `HTTP_*` key
// (PEP 3333, "environ Variables"; wsgiref's `get_environ`).
import type { WSGIEnvironment } from "./types.ts";
import { trimOws } from "./_field_values.ts";

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

/** Adds one header to the environ as its `HTTP_*` key (or drops it). */
export function addHeader(
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
