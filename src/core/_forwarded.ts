// Trusted proxies: which peers' forwarded headers are believed, and what
// they say. Addresses and CIDR ranges (IPv4, IPv6, IPv4-mapped IPv6), the
// X-Forwarded-* family and RFC 7239 `Forwarded`. Pure functions over
// strings: no runtime, so the core stays portable.
//
// The rule (RFC 7239 §8.1; gunicorn, Express, nginx's real_ip_recursive):
// each proxy appends the address it was connected from, so only the entries
// our own proxies wrote are facts. From an untrusted peer nothing is
// believed. From a trusted one the list is walked right to left past
// trusted addresses; the first untrusted hop is the client. The leftmost
// entry is whatever the client sent, and is reached only when every hop to
// its right is trusted.

/** The default of `forwardedAllowIps`, as gunicorn's `forwarded_allow_ips`. */
export const DEFAULT_FORWARDED_ALLOW_IPS: readonly string[] = Object.freeze([
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

/** A parsed address. */
type IP = { v4: number } | { v6: number[] };

function parseV4(s: string): number | null {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { // "."
      if (digits === 0 || ++dots > 3) return null;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return null;
    // Decimal only: "010" would be octal to inet_aton, so it is refused.
    if (digits === 1 && part === 0) return null;
    part = part * 10 + d;
    if (++digits > 3 || part > 255) return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return n * 256 + part;
}

const HEX4 = /^[0-9A-Fa-f]{1,4}$/;

function parseV6(s: string): number[] | null {
  // A zone (fe80::1%eth0) names an interface, not part of the address.
  const pct = s.indexOf("%");
  if (pct !== -1) {
    if (pct === s.length - 1) return null;
    s = s.slice(0, pct);
  }
  const last = s.lastIndexOf(":");
  if (last === -1) return null;
  if (s.indexOf(".", last) !== -1) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) is two words.
    const v4 = parseV4(s.slice(last + 1));
    if (v4 === null) return null;
    s = s.slice(0, last + 1) + (v4 >>> 16).toString(16) + ":" +
      (v4 & 0xffff).toString(16);
  }
  const gap = s.indexOf("::");
  if (gap !== -1 && s.indexOf("::", gap + 1) !== -1) return null;
  const head = gap === -1 ? s : s.slice(0, gap);
  const tail = gap === -1 ? "" : s.slice(gap + 2);
  const h = head === "" ? [] : head.split(":");
  const t = tail === "" ? [] : tail.split(":");
  if (gap === -1 ? h.length !== 8 : h.length + t.length > 7) return null;
  const words: number[] = [];
  for (const w of h) {
    if (!HEX4.test(w)) return null;
    words.push(parseInt(w, 16));
  }
  for (let i = h.length + t.length; i < 8; i++) words.push(0);
  for (const w of t) {
    if (!HEX4.test(w)) return null;
    words.push(parseInt(w, 16));
  }
  return words;
}

/** True for ::ffff:a.b.c.d, which is an IPv4 peer on a dual-stack socket. */
function isMapped(w: number[]): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 &&
    w[4] === 0 && w[5] === 0xffff;
}

/** Parses an IPv4 or IPv6 address (no brackets, no port); null if neither. */
export function parseIP(s: string): IP | null {
  if (s.includes(":")) {
    const w = parseV6(s);
    if (w === null) return null;
    return isMapped(w) ? { v4: w[6] * 65536 + w[7] } : { v6: w };
  }
  const v4 = parseV4(s);
  return v4 === null ? null : { v4 };
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

// ---------------------------------------------------------------------
// RFC 7239 `Forwarded`.

/** One forwarded-element: its parameters, names lower-cased. */
export type ForwardedElement = Record<string, string>;

// RFC 9110 §5.6.2 tchar.
function isTchar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    (c < 0x80 && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));
}

const isOWS = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * Parses a `Forwarded` value (RFC 7239 §4): comma-separated elements of
 * `;`-separated `name=value` pairs, each value a token or a quoted-string
 * (RFC 9110 §5.6.4; a quoted value may hold `,`, `;` and `=`, so the value
 * is scanned, not split). Empty list elements and empty pairs are skipped
 * (RFC 9110 §5.6.1); whitespace is allowed around `,` and `;`, as senders
 * write it. Returns the elements, or a string saying what is wrong.
 */
export function parseForwarded(s: string): ForwardedElement[] | string {
  const out: ForwardedElement[] = [];
  let i = 0;
  const n = s.length;
  // No prototype: a parameter named "__proto__" is just a name.
  const fresh = (): ForwardedElement => Object.create(null);
  let element = fresh();
  let pairs = 0;
  for (;;) {
    while (i < n && isOWS(s.charCodeAt(i))) i++;
    if (i >= n) break;
    const c0 = s.charCodeAt(i);
    if (c0 === 0x2c) { // ","
      if (pairs > 0) out.push(element);
      element = fresh();
      pairs = 0;
      i++;
      continue;
    }
    if (c0 === 0x3b) { // ";"
      i++;
      continue;
    }
    const start = i;
    while (i < n && isTchar(s.charCodeAt(i))) i++;
    if (i === start) return `unexpected ${show(s[i])} at offset ${i}`;
    const name = s.slice(start, i).toLowerCase();
    if (s.charCodeAt(i) !== 0x3d) { // "="
      return `parameter ${show(name)} has no "=value"`;
    }
    i++;
    let value = "";
    if (s.charCodeAt(i) === 0x22) { // quoted-string
      i++;
      for (;;) {
        if (i >= n) return "unterminated quoted string";
        const c = s.charCodeAt(i);
        if (c === 0x22) break;
        if (c === 0x5c) { // quoted-pair
          i++;
          if (i >= n) return "unterminated quoted string";
          const q = s.charCodeAt(i);
          if (q < 0x20 && q !== 0x09 || q === 0x7f) {
            return `control character in a quoted value at offset ${i}`;
          }
          value += s[i];
        } else if (c < 0x20 && c !== 0x09 || c === 0x7f) {
          return `control character in a quoted value at offset ${i}`;
        } else value += s[i];
        i++;
      }
      i++;
    } else {
      const vs = i;
      while (i < n && isTchar(s.charCodeAt(i))) i++;
      if (i === vs) return `parameter ${show(name)} has an empty value`;
      value = s.slice(vs, i);
    }
    // RFC 7239 §4: each parameter occurs at most once per element.
    if (Object.hasOwn(element, name)) {
      return `parameter ${show(name)} repeated in one element`;
    }
    element[name] = value;
    pairs++;
    while (i < n && isOWS(s.charCodeAt(i))) i++;
    if (i < n) {
      const c = s.charCodeAt(i);
      if (c !== 0x3b && c !== 0x2c) {
        return `unexpected ${show(s[i])} at offset ${i}`;
      }
    }
  }
  if (pairs > 0) out.push(element);
  return out;
}

/** How many trailing elements a malformed `Forwarded` is searched for. */
const TAIL_TRIES = 32;

/**
 * Parses a `Forwarded` value as {@linkcode parseForwarded}, and when it is
 * malformed, keeps the longest readable tail that starts after one of its
 * last commas. Each proxy appends its element, so the right end is what
 * our proxies wrote; a client that sends `for="` (an open quote swallows
 * the rest) must not hide the address its proxy appended. A valid tail
 * gives the client no more than a well-formed lie would. The search is
 * bounded, so a long malformed value costs linear time.
 */
export function parseForwardedTail(
  s: string,
): { elements: ForwardedElement[]; error: string | null } {
  const whole = parseForwarded(s);
  if (typeof whole !== "string") return { elements: whole, error: null };
  const commas: number[] = [];
  for (
    let i = s.lastIndexOf(",");
    i !== -1 && commas.length < TAIL_TRIES;
    i = i === 0 ? -1 : s.lastIndexOf(",", i - 1)
  ) commas.push(i);
  for (let k = commas.length - 1; k >= 0; k--) {
    const tail = parseForwarded(s.slice(commas[k] + 1));
    if (typeof tail !== "string") return { elements: tail, error: whole };
  }
  return { elements: [], error: whole };
}

/** A node (RFC 7239 §6): an address, `unknown` or an obfuscated name. */
export interface ForwardedNode {
  /** The address without brackets, `"unknown"`, or `"_name"`. */
  name: string;
  /** The parsed address; null for `unknown` and obfuscated names. */
  ip: IP | null;
  /** The port, when a numeric one was given. */
  port?: number;
}

const OBF = /^_[A-Za-z0-9._-]+$/;

function parsePort(s: string): number | null {
  if (!/^[0-9]{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n <= 65535 ? n : null;
}

/**
 * Parses a node: `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]`,
 * `[2001:db8::1]:80`, `unknown`, `_hidden`, `_hidden:_port` (RFC 7239 §6).
 * With `bare`, an unbracketed IPv6 address is accepted too, as
 * X-Forwarded-For writes it. Null when malformed.
 */
export function parseNode(s: string, bare: boolean): ForwardedNode | null {
  let host = s;
  let portText: string | null = null;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close === -1) return null;
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== "") {
      if (rest[0] !== ":") return null;
      portText = rest.slice(1);
    }
    const w = parseV6(host);
    if (w === null) return null;
    const ip: IP = isMapped(w) ? { v4: w[6] * 65536 + w[7] } : { v6: w };
    return withPort({ name: host, ip }, portText);
  }
  const first = s.indexOf(":");
  if (first !== -1 && s.indexOf(":", first + 1) !== -1) {
    if (!bare) return null; // RFC 7239 §6: IPv6 must be bracketed
    const ip = parseIP(s);
    return ip === null ? null : { name: s, ip };
  }
  if (first !== -1) {
    host = s.slice(0, first);
    portText = s.slice(first + 1);
  }
  if (host.toLowerCase() === "unknown") {
    return withPort({ name: "unknown", ip: null }, portText);
  }
  if (OBF.test(host)) return withPort({ name: host, ip: null }, portText);
  const v4 = parseV4(host);
  if (v4 === null) return null;
  return withPort({ name: host, ip: { v4 } }, portText);
}

function withPort(
  node: ForwardedNode,
  portText: string | null,
): ForwardedNode | null {
  if (portText === null) return node;
  if (OBF.test(portText)) return node; // an obfuscated port says nothing
  const port = parsePort(portText);
  if (port === null) return null;
  node.port = port;
  return node;
}

// A Host value (RFC 9110 §7.2: uri-host [":" port]), kept to what host
// names and address literals use: no "/", "?", "#", "@", spaces or
// controls, so a forwarded host can never change the path an app sees.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::([0-9]{1,5}))?$/;

/** Splits a Host value into name and port; null when malformed. */
export function parseHost(
  s: string,
): { name: string; port: string | null } | null {
  const m = HOST.exec(s);
  if (m === null) return null;
  const port = m[1] ?? null;
  if (port !== null && Number(port) > 65535) return null;
  let name = port === null ? s : s.slice(0, s.length - port.length - 1);
  if (name.startsWith("[")) {
    name = name.slice(1, -1);
    if (parseV6(name) === null) return null;
  }
  return { name, port };
}

// ---------------------------------------------------------------------
// What the headers say, once the peer is trusted.

/** The forwarded headers of a request, each list joined by ", ". */
export interface ForwardedHeaders {
  forwarded: string | null;
  xFor: string | null;
  xProto: string | null;
  xHost: string | null;
  xPort: string | null;
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

/** Shows a header value in a log line: printable ASCII only. */
export function show(s: string): string {
  return '"' + s.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff
      ? "\\u" + code.toString(16).padStart(4, "0")
      : "\\x" + code.toString(16).padStart(2, "0");
  }) + '"';
}

/**
 * The non-empty members of a comma-separated list (RFC 9110 §5.6.1), each
 * without the SP and HTAB around it (OWS; no other character is trimmed).
 */
export function splitList(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i <= n) {
    let end = s.indexOf(",", i);
    if (end === -1) end = n;
    let a = i;
    let b = end;
    while (a < b && isOWS(s.charCodeAt(a))) a++;
    while (b > a && isOWS(s.charCodeAt(b - 1))) b--;
    if (b > a) out.push(a === 0 && b === n ? s : s.slice(a, b));
    i = end + 1;
  }
  return out;
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
