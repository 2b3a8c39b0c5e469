// What trusted proxies' forwarded headers say: the X-Forwarded-* family and
// RFC 7239 `Forwarded`, read from a request's headers and resolved to the
// client, scheme, host and port the app sees. Pure functions over strings:
// no runtime, so the core stays portable. Which peers and hops are trusted
// is proxy_trust.ts; the values' grammar, header.ts and
// nodes.ts.
//
// The rule (RFC 7239 §8.1; gunicorn, Express, nginx's real_ip_recursive):
// each proxy appends the address it was connected from, so only the entries
// our own proxies wrote are facts. From an untrusted peer nothing is
// believed. From a trusted one the list is walked right to left past
// trusted addresses; the first untrusted hop is the client. The leftmost
// entry is whatever the client sent, and is reached only when every hop to
// its right is trusted.
import { show, splitList, trimOws } from "../_field_values.ts";
import { parseForwardedTail } from "./header.ts";
import {
  type ForwardedNode,
  parseHost,
  parseNode,
  parsePort,
} from "./nodes.ts";
import { ipTrusted, type ProxyTrust } from "./proxy_trust.ts";

/** The forwarded headers of a request, each list joined by ", ". */
interface ForwardedHeaders {
  forwarded: string | null;
  xFor: string | null;
  xProto: string | null;
  xHost: string | null;
  xPort: string | null;
}

/**
 * The forwarded headers of a request, or null when it has none: the one
 * check every request pays, and only when the app reads a key they affect.
 */
export function forwardedHeaders(
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
      const value = trimOws(headers[i + 1]);
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

/** What a trusted peer's headers change in the environ. */
export interface Forwarding {
  /** `REMOTE_ADDR`, when a header names the client. */
  remoteAddr?: string;
  /** `REMOTE_PORT` with it; the key is left out when no port was given. */
  remotePort?: number;
  /** `wsgi.url_scheme`. */
  scheme?: "http" | "https";
  /** `HTTP_HOST`. */
  host?: string;
  /** `SERVER_NAME`. */
  serverName?: string;
  /** `SERVER_PORT`. */
  serverPort?: string;
}

/** What one header family claims about the chosen hop. */
interface Claim {
  addr?: string;
  port?: number;
  proto?: "http" | "https";
  host?: string;
  hostName?: string;
  serverPort?: string;
}

function checkProto(
  v: string | undefined,
  what: string,
  warn: (m: string) => void,
): "http" | "https" | undefined {
  if (v === undefined) return undefined;
  // A URI scheme is case-insensitive (RFC 3986 §3.1); WSGI knows two.
  const lower = v.toLowerCase();
  if (lower === "http" || lower === "https") return lower;
  warn(`${what} ${show(v)} is not http or https`);
  return undefined;
}

function setHost(
  claim: Claim,
  v: string | undefined,
  what: string,
  warn: (m: string) => void,
): string | null {
  if (v === undefined) return null;
  const host = parseHost(v);
  if (host === null) {
    warn(`${what} ${show(v)} is not a host[:port]`);
    return null;
  }
  claim.host = v;
  claim.hostName = host.name;
  return host.port;
}

/** The SERVER_PORT a claim implies, given the connection's scheme. */
function derivePort(
  claim: Claim,
  explicit: string | null,
  scheme: "http" | "https",
): void {
  if (explicit !== null) claim.serverPort = String(Number(explicit));
  else if (claim.proto !== undefined || claim.host !== undefined) {
    // No port named: the default port of the scheme the client used.
    claim.serverPort = (claim.proto ?? scheme) === "https" ? "443" : "80";
  }
}

/** Walks a list of nodes right to left; returns the chosen index. */
function walk(
  count: number,
  nodeAt: (i: number) => ForwardedNode | null | undefined,
  trust: ProxyTrust,
): number {
  let j = count - 1;
  while (j > 0) {
    const node = nodeAt(j);
    if (!node || node.ip === null || !ipTrusted(trust, node.ip)) break;
    j--;
  }
  return j;
}

function fromX(
  h: ForwardedHeaders,
  trust: ProxyTrust,
  scheme: "http" | "https",
  warn: (m: string) => void,
): Claim {
  const claim: Claim = {};
  // How far from the right the chosen hop is: Proto, Host and Port are
  // taken at the same distance, so that all describe one hop. A proxy that
  // sets these rather than appending leaves one value: a list shorter than
  // the distance gives its leftmost (oldest) value.
  let d = 0;
  const hops = h.xFor === null ? [] : splitList(h.xFor);
  if (hops.length > 0) {
    // Only the hops walked are parsed: a long list costs no more.
    const nodeAt = (i: number): ForwardedNode | null =>
      parseNode(hops[i], true);
    const j = walk(hops.length, nodeAt, trust);
    d = hops.length - 1 - j;
    const node = nodeAt(j);
    if (node === null) {
      warn(`X-Forwarded-For hop ${show(hops[j])} is not an address`);
      claim.addr = "unknown";
    } else {
      claim.addr = node.name;
      claim.port = node.port;
    }
  }
  const pick = (v: string | null): string | undefined => {
    if (v === null) return undefined;
    const list = splitList(v);
    return list.length === 0
      ? undefined
      : list[Math.max(0, list.length - 1 - d)];
  };
  claim.proto = checkProto(pick(h.xProto), "X-Forwarded-Proto", warn);
  let explicit = setHost(claim, pick(h.xHost), "X-Forwarded-Host", warn);
  const port = pick(h.xPort);
  if (port !== undefined) {
    if (parsePort(port) === null) {
      warn(`X-Forwarded-Port ${show(port)} is not a port number`);
    } else explicit = port;
  }
  derivePort(claim, explicit, scheme);
  return claim;
}

function fromForwarded(
  value: string,
  trust: ProxyTrust,
  scheme: "http" | "https",
  warn: (m: string) => void,
): Claim {
  const tail = parseForwardedTail(value);
  if (tail.error !== null) {
    warn(`Forwarded ${show(value)} is malformed: ${tail.error}`);
  }
  const elements = tail.elements;
  const claim: Claim = {};
  if (elements.length === 0) {
    // Unreadable: nothing in it is believed, and the client is not known.
    if (tail.error !== null) claim.addr = "unknown";
    return claim;
  }
  const nodeAt = (i: number): ForwardedNode | null | undefined => {
    const value = elements[i].for;
    return value === undefined ? undefined : parseNode(value, false);
  };
  const j = walk(elements.length, nodeAt, trust);
  const chosen = elements[j];
  const node = nodeAt(j);
  if (
    j === 0 && tail.error !== null && node && node.ip !== null &&
    ipTrusted(trust, node.ip)
  ) {
    // Every readable hop is trusted: the client is in the unreadable part.
    claim.addr = "unknown";
  } else if (node === undefined) {
    // The nearest proxy named no client: REMOTE_ADDR stays the peer. Past
    // trusted hops, the client is not known.
    if (j < elements.length - 1) claim.addr = "unknown";
  } else if (node === null) {
    warn(`Forwarded for=${show(chosen.for)} is not a node`);
    claim.addr = "unknown";
  } else {
    claim.addr = node.name;
    claim.port = node.port;
  }
  claim.proto = checkProto(chosen.proto, "Forwarded proto=", warn);
  const explicit = setHost(claim, chosen.host, "Forwarded host=", warn);
  derivePort(claim, explicit, scheme);
  return claim;
}

/**
 * What a trusted peer's forwarded headers say about the request: the
 * client (`REMOTE_ADDR`, `REMOTE_PORT`), the scheme, the host and port it
 * asked for. `scheme` is the connection's own; `warn` receives a line for
 * each value ignored as malformed.
 */
export function resolveForwarded(
  h: ForwardedHeaders,
  trust: ProxyTrust,
  scheme: "http" | "https",
  warn: (message: string) => void,
): Forwarding {
  // One family is believed, never a mix: X-Forwarded-* whenever any of
  // it is present, `Forwarded` only otherwise. Every common proxy and load
  // balancer sets X-Forwarded-For and passes a client's `Forwarded` on
  // untouched, so letting `Forwarded` win (or weighing the two) would let
  // any client in the usual deployment choose, or blank, its address. A
  // proxy that sets only `Forwarded` must remove incoming X-Forwarded-*
  // (the README says so).
  const hasX = h.xFor !== null || h.xProto !== null || h.xHost !== null ||
    h.xPort !== null;
  const c = hasX
    ? fromX(h, trust, scheme, warn)
    : fromForwarded(h.forwarded!, trust, scheme, warn);
  const out: Forwarding = {};
  if (c.addr !== undefined) {
    out.remoteAddr = c.addr;
    if (c.port !== undefined) out.remotePort = c.port;
  }
  if (c.proto !== undefined) out.scheme = c.proto;
  if (c.host !== undefined) {
    out.host = c.host;
    out.serverName = c.hostName;
  }
  if (c.serverPort !== undefined) out.serverPort = c.serverPort;
  return out;
}
