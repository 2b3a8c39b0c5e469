// IP addresses as trusted-proxy lists and forwarded headers write them:
// IPv4 in dotted decimal, IPv6 (with an embedded IPv4 tail or a zone), and
// IPv4-mapped IPv6 read as the IPv4 address it maps. Pure functions over
// strings: no runtime, so the core stays portable.

/** A parsed address. */
export type IP = { v4: number } | { v6: number[] };

/** Parses a dotted-decimal IPv4 address as a number; null if malformed. */
export function parseV4(s: string): number | null {
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

/** Parses an IPv6 address as eight 16-bit words; null if malformed. */
export function parseV6(s: string): number[] | null {
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

/** An IPv6 address's words as an address: a mapped one is its IPv4. */
export function v6Address(w: number[]): IP {
  return isMapped(w) ? { v4: w[6] * 65536 + w[7] } : { v6: w };
}

/** Parses an IPv4 or IPv6 address (no brackets, no port); null if neither. */
export function parseIP(s: string): IP | null {
  if (s.includes(":")) {
    const w = parseV6(s);
    return w === null ? null : v6Address(w);
  }
  const v4 = parseV4(s);
  return v4 === null ? null : { v4 };
}
