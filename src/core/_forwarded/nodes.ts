// The addresses forwarded headers name: a node of RFC 7239 §6 (as
// `Forwarded: for=` and X-Forwarded-For write it) and a Host value (as
// `Forwarded: host=` and X-Forwarded-Host write it).
import { type IP, parseIP, parseV4, parseV6, v6Address } from "./ip.ts";

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

/** Parses a port number (0-65535, decimal digits only); null if not one. */
export function parsePort(s: string): number | null {
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
    return withPort({ name: host, ip: v6Address(w) }, portText);
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
