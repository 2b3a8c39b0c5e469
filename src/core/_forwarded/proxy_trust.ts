// Trusted proxies: which peers' and hops' forwarded headers are believed.
// `forwardedAllowIps` compiled to address and CIDR ranges (IPv4, IPv6,
// IPv4-mapped IPv6), and the test of an address against them. What the
// headers say is read in forwarded.ts.
import { type IP, parseIP } from "./ip.ts";

/** The default of `forwardedAllowIps`, as gunicorn's `forwarded_allow_ips`. */
const DEFAULT_FORWARDED_ALLOW_IPS: readonly string[] = Object.freeze([
  "127.0.0.1",
  "::1",
]);

/** A compiled `forwardedAllowIps`. */
export interface ProxyTrust {
  /** `"*"`: every peer and every hop is believed. */
  all: boolean;
  /** IPv4 ranges: network as a number, prefix length. */
  v4: [number, number][];
  /** IPv6 ranges: network as eight 16-bit words, prefix length. */
  v6: [number[], number][];
  /** The server listens on a unix socket, whose peers have no address. */
  unix?: boolean;
}

/**
 * Where a server keeps its compiled trust: a private key on its options,
 * so the public `makeEnviron` and `handleRequest` never apply it.
 */
export const TRUST: unique symbol = Symbol("wsgi.trustedProxies");

/** Options carrying a server's compiled trust. */
export interface TrustedOptions {
  [TRUST]?: ProxyTrust;
}

/**
 * The options a server serves with: its own, plus `forwardedAllowIps`
 * compiled once (a bad entry throws here, when the server is made).
 */
export function withTrust<T extends object>(
  options: T & { forwardedAllowIps?: string | readonly string[] },
  host: string,
): T & TrustedOptions {
  const trust = compileTrust(options.forwardedAllowIps);
  trust.unix = host.startsWith("unix:");
  return { ...options, [TRUST]: trust };
}
function badEntry(entry: unknown, why: string): TypeError {
  return new TypeError(
    `forwardedAllowIps: ${JSON.stringify(entry)} ${why}`,
  );
}

/**
 * Compiles `forwardedAllowIps`: addresses and CIDR ranges, IPv4 and IPv6,
 * as a list or one comma-separated string (the CLI flag's form); `"*"`
 * trusts everyone. Throws a TypeError naming a bad entry.
 */
export function compileTrust(
  spec: string | readonly string[] | undefined,
): ProxyTrust {
  let list: readonly unknown[];
  if (spec === undefined) list = DEFAULT_FORWARDED_ALLOW_IPS;
  else if (typeof spec === "string") list = spec.split(",");
  else if (Array.isArray(spec)) list = spec;
  else {
    throw new TypeError(
      `forwardedAllowIps must be a string or an array of strings, got ${
        spec === null ? "null" : typeof spec
      }`,
    );
  }
  const trust: ProxyTrust = { all: false, v4: [], v6: [] };
  for (const raw of list) {
    if (typeof raw !== "string") throw badEntry(raw, "is not a string");
    const entry = raw.trim();
    if (entry === "") continue;
    if (entry === "*") {
      trust.all = true;
      continue;
    }
    const slash = entry.indexOf("/");
    const ip = parseIP(slash === -1 ? entry : entry.slice(0, slash));
    if (ip === null) {
      throw badEntry(entry, "is not an IP address or CIDR range");
    }
    const text = slash === -1 ? null : entry.slice(slash + 1);
    const v4 = "v4" in ip;
    // A mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
    const mapped = v4 && entry.includes(":");
    const max = v4 && !mapped ? 32 : 128;
    let prefix = max;
    if (text !== null) {
      if (!/^[0-9]{1,3}$/.test(text) || Number(text) > max) {
        throw badEntry(entry, `has a prefix length outside 0-${max}`);
      }
      prefix = Number(text);
    }
    if (v4) {
      if (mapped && prefix < 96) {
        throw badEntry(entry, "is an IPv4-mapped range shorter than /96");
      }
      trust.v4.push([ip.v4, mapped ? prefix - 96 : prefix]);
    } else trust.v6.push([ip.v6, prefix]);
  }
  return trust;
}

function inV4(a: number, net: number, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(a / size) === Math.floor(net / size);
}

function inV6(a: number[], net: number[], prefix: number): boolean {
  for (let i = 0; i < 8 && prefix > 0; i++, prefix -= 16) {
    const bits = prefix >= 16 ? 16 : prefix;
    const shift = 16 - bits;
    if (a[i] >> shift !== net[i] >> shift) return false;
  }
  return true;
}

/** True when an address falls in one of the trusted ranges. */
export function ipTrusted(trust: ProxyTrust, ip: IP): boolean {
  if (trust.all) return true;
  if ("v4" in ip) {
    for (const [net, prefix] of trust.v4) {
      if (inV4(ip.v4, net, prefix)) return true;
    }
    return false;
  }
  for (const [net, prefix] of trust.v6) {
    if (inV6(ip.v6, net, prefix)) return true;
  }
  return false;
}

/**
 * True when the socket peer is trusted. On a unix socket, reachable only
 * through the file system, a peer has no address: trusted unless the list
 * is empty, as gunicorn does. On TCP an unknown peer (a client gone before
 * the app asked; Bun and Node then no longer know it) is not trusted.
 */
export function peerTrusted(trust: ProxyTrust, peer: string): boolean {
  if (trust.all) return true;
  if (peer === "") {
    return trust.unix === true && trust.v4.length + trust.v6.length > 0;
  }
  const ip = parseIP(peer);
  return ip !== null && ipTrusted(trust, ip);
}

/** True when the list trusts nobody (so no header can ever be believed). */
export function trustsNobody(trust: ProxyTrust): boolean {
  return !trust.all && trust.v4.length === 0 && trust.v6.length === 0;
}
