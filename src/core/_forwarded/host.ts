// The Host rule, one for the fetch handler and every makeServer shim: a
// Host header that is not `host[:port]` is answered 400 before any app runs
// (badHost in _response/answers.ts).

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
