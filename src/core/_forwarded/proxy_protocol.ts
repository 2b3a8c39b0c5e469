// The PROXY protocol (haproxy's doc/proxy-protocol.txt, versions 1 and 2):
// the header a TCP proxy (haproxy `send-proxy`, nginx `proxy_protocol on`,
// a cloud load balancer) writes before the first byte of the client's
// connection, naming the client's address. Pure functions over bytes: the
// runtime shim reads the first bytes of a connection and asks here.
import { parseV4, parseV6 } from "./ip.ts";
import { compileTrust, type ProxyTrust } from "./proxy_trust.ts";

/** Which versions a server accepts (gunicorn 24's `--proxy-protocol`). */
export type ProxyProtocolMode = "v1" | "v2" | "auto";

/**
 * Checks `proxyProtocol` and compiles `proxyAllowFrom` (as
 * `forwardedAllowIps` is: addresses, CIDR ranges, `"*"`); throws a
 * TypeError naming a bad value.
 */
export function proxyAllow(options: {
  proxyProtocol?: unknown;
  proxyAllowFrom?: string | readonly string[];
}): ProxyTrust {
  const mode = options.proxyProtocol;
  if (
    mode !== undefined && mode !== false && mode !== "v1" && mode !== "v2" &&
    mode !== "auto"
  ) {
    throw new TypeError(
      `proxyProtocol must be "v1", "v2", "auto" or false, got ${
        JSON.stringify(mode)
      }`,
    );
  }
  try {
    return compileTrust(options.proxyAllowFrom);
  } catch (error) {
    throw new TypeError(
      (error as Error).message.replace("forwardedAllowIps", "proxyAllowFrom"),
    );
  }
}

/** What a header says about the connection. */
export interface ProxyInfo {
  /** The client's address and port; null: keep the socket's own peer. */
  client: { address: string; port: number } | null;
  /** v2 only: the client spoke TLS to the proxy (PP2_CLIENT_SSL). */
  tls: boolean;
}

/** The outcome of looking at the first bytes of a connection. */
type ProxyParse =
  /** Not enough bytes yet to tell. */
  | { kind: "more" }
  /** No PROXY header: plain HTTP from the first byte. */
  | { kind: "none" }
  /** A header of `length` bytes; the request starts after it. */
  | { kind: "header"; length: number; info: ProxyInfo }
  /** A malformed header: the connection is closed. */
  | { kind: "invalid"; reason: string };

/** v2's 12-byte signature: `\r\n\r\n\0\r\nQUIT\n` (spec §2.2). */
const V2_SIGNATURE = [
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
];
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
/** Spec §2.1: a v1 line is at most 107 bytes, CRLF included. */
const V1_MAX = 107;

/** 1: `bytes` starts with `prefix`; 0: they agree so far; -1: they differ. */
function startsWith(bytes: Uint8Array, prefix: number[]): number {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return -1;
  return n === prefix.length ? 1 : 0;
}

/**
 * Looks at the bytes received so far on a new connection. A connection
 * that begins with neither signature is plain HTTP (gunicorn's behaviour,
 * its corpus case pp_03): its peer is the socket's own, so nothing is
 * believed that a proxy did not say.
 */
export function parseProxyHeader(
  bytes: Uint8Array,
  mode: ProxyProtocolMode,
): ProxyParse {
  let undecided = false;
  if (mode !== "v1") {
    const v2 = startsWith(bytes, V2_SIGNATURE);
    if (v2 === 1) return parseV2(bytes);
    if (v2 === 0) undecided = true;
  }
  if (mode !== "v2") {
    const v1 = startsWith(bytes, V1_PREFIX);
    if (v1 === 1) return parseV1(bytes);
    if (v1 === 0) undecided = true;
  }
  return undecided ? { kind: "more" } : { kind: "none" };
}

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

/** v1: `PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n` (spec §2.1). */
function parseV1(bytes: Uint8Array): ProxyParse {
  const end = Math.min(bytes.length, V1_MAX);
  let cr = -1;
  for (let i = V1_PREFIX.length; i < end; i++) {
    const c = bytes[i];
    if (c === 0x0d) {
      cr = i;
      break;
    }
    // A lone LF, or a byte outside printable ASCII, is not a v1 line.
    if (c < 0x20 || c > 0x7e) {
      return { kind: "invalid", reason: "a control byte in the v1 line" };
    }
  }
  if (cr === -1) {
    return bytes.length >= V1_MAX
      ? { kind: "invalid", reason: "a v1 line longer than 107 bytes" }
      : { kind: "more" };
  }
  if (cr + 1 >= bytes.length) return { kind: "more" };
  if (bytes[cr + 1] !== 0x0a) {
    return { kind: "invalid", reason: "a CR without LF in the v1 line" };
  }
  const line = String.fromCharCode(...bytes.subarray(0, cr));
  const length = cr + 2;
  const words = line.split(" ");
  // UNKNOWN: the proxy could not tell (spec: use the real endpoints, and
  // ignore whatever follows). gunicorn refuses it; the spec does not.
  if (words[1] === "UNKNOWN") {
    return { kind: "header", length, info: { client: null, tls: false } };
  }
  if (words.length !== 6) {
    return {
      kind: "invalid",
      reason: `a v1 line of ${words.length} fields, not 6: ${
        JSON.stringify(line)
      }`,
    };
  }
  const [, family, src, dst, sport, dport] = words;
  const parse = family === "TCP4"
    ? parseV4
    : family === "TCP6"
    ? (s: string) => s.includes("%") ? null : parseV6(s)
    : null;
  if (parse === null) {
    return {
      kind: "invalid",
      reason: `v1 protocol ${
        JSON.stringify(family)
      } is not TCP4, TCP6 or UNKNOWN`,
    };
  }
  if (parse(src) === null || parse(dst) === null) {
    return {
      kind: "invalid",
      reason: `a v1 address that is not ${family}: ${JSON.stringify(line)}`,
    };
  }
  for (const port of [sport, dport]) {
    if (!PORT.test(port) || Number(port) > 65535) {
      return {
        kind: "invalid",
        reason: `a v1 port that is not 0-65535: ${JSON.stringify(port)}`,
      };
    }
  }
  return {
    kind: "header",
    length,
    info: { client: { address: src, port: Number(sport) }, tls: false },
  };
}

/** TLV type PP2_TYPE_SSL and its client bit PP2_CLIENT_SSL (spec §2.2.5). */
const PP2_TYPE_SSL = 0x20;
const PP2_CLIENT_SSL = 0x01;

/** v2: the binary header (spec §2.2). */
function parseV2(bytes: Uint8Array): ProxyParse {
  if (bytes.length < 16) return { kind: "more" };
  const verCmd = bytes[12];
  const famProto = bytes[13];
  const size = (bytes[14] << 8) | bytes[15];
  const length = 16 + size;
  if (verCmd >> 4 !== 2) {
    return { kind: "invalid", reason: `v2 version ${verCmd >> 4}, not 2` };
  }
  const command = verCmd & 0x0f;
  if (command > 1) {
    return { kind: "invalid", reason: `v2 command ${command}, not 0 or 1` };
  }
  if (bytes.length < length) return { kind: "more" };
  // LOCAL (0): the proxy's own connection, a health check: its endpoints
  // are the real ones, and whatever follows is ignored.
  if (command === 0) {
    return { kind: "header", length, info: { client: null, tls: false } };
  }
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  // HTTP is a stream: DGRAM (2) is refused; UNSPEC (0) keeps the peer.
  if (transport > 1 || (transport === 0 && family !== 0)) {
    return {
      kind: "invalid",
      reason: `v2 transport ${transport} is not a stream`,
    };
  }
  const body = bytes.subarray(16, length);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let client: ProxyInfo["client"] = null;
  let tlvs: number;
  if (family === 1) {
    if (size < 12) return { kind: "invalid", reason: "a short v2 IPv4 block" };
    client = {
      address: Array.from(body.subarray(0, 4)).join("."),
      port: view.getUint16(8),
    };
    tlvs = 12;
  } else if (family === 2) {
    if (size < 36) return { kind: "invalid", reason: "a short v2 IPv6 block" };
    const words: string[] = [];
    for (let i = 0; i < 16; i += 2) words.push(view.getUint16(i).toString(16));
    client = { address: compressV6(words), port: view.getUint16(32) };
    tlvs = 36;
  } else if (family === 3) {
    // AF_UNIX: a path is no address; the socket's peer is kept.
    if (size < 216) return { kind: "invalid", reason: "a short v2 unix block" };
    tlvs = 216;
  } else if (family === 0) {
    tlvs = size;
  } else {
    return { kind: "invalid", reason: `v2 address family ${family}` };
  }
  let tls = false;
  for (let at = tlvs; at < size;) {
    if (at + 3 > size) return { kind: "invalid", reason: "a cut v2 TLV" };
    const type = body[at];
    const len = view.getUint16(at + 1);
    if (at + 3 + len > size) return { kind: "invalid", reason: "a cut v2 TLV" };
    if (type === PP2_TYPE_SSL && len >= 1) {
      tls = (body[at + 3] & PP2_CLIENT_SSL) !== 0;
    }
    at += 3 + len;
  }
  return { kind: "header", length, info: { client, tls } };
}

/** Eight hex words as RFC 5952 text (`::` for the longest zero run). */
function compressV6(words: string[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  if (best === -1) return words.join(":");
  return `${words.slice(0, best).join(":")}::${
    words.slice(best + bestLength).join(":")
  }`;
}
