// The Host rule, one for the fetch handler and every makeServer shim: a
// Host header that is not `host[:port]` is answered 400 before any app runs.
import type { Outcome } from "../_exchange.ts";
import { plainOutcome } from "../_serve.ts";

/**
 * RFC 9110 §7.2: `Host = uri-host [ ":" port ]`, where uri-host (RFC 3986
 * §3.2.2) is an IP-literal in brackets, or a reg-name or IPv4 address made
 * of unreserved, pct-encoded and sub-delims characters. Empty is allowed
 * (RFC 9112 §3.2: a target without an authority). None of these holds a
 * "/", "?", "#", "@", "\\", a space or a byte >= 0x80; nor does a Host
 * sent twice, which arrives joined by ", " (or kept twice, on Node).
 */
const VALID_HOST =
  /^(?:\[[\w.:~!$&'()*+,;=%-]*\]|[\w.~!$&'()*+,;=%-]*)(?::\d*)?$/;

/** True when `host` (a Host header's value) is `host[:port]` or empty. */
export function isValidHost(host: string): boolean {
  return VALID_HOST.test(host);
}

/**
 * The 400 for a Host header with an invalid value, or sent twice (RFC 9112
 * §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
 * HTTP/1.1 request message that lacks a Host header field and to any
 * request message that contains more than one Host header field line or a
 * Host header field with an invalid field value"). The value is named,
 * quoted as JSON so that no control character reaches a log or terminal.
 */
export function badHost(host: string): Outcome {
  return plainOutcome(
    400,
    "Bad Request",
    `Bad Request: the Host header is not a host[:port]: ${
      JSON.stringify(host)
    }\n`,
  );
}
