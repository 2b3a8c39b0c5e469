// Native strings (PEP 3333 "Unicode Issues": one code unit per byte) in and
// out of text, for the toolkit's own use; code units above 0xFF, which a
// hand-made environ may carry, are kept as they are rather than refused.

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** A native string's bytes decoded as UTF-8 (U+FFFD for bad bytes). */
export function nativeText(s: string): string {
  // Pure ASCII is the common case and needs no copy.
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  if (/[^\x00-\xff]/.test(s)) return s;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return utf8.decode(bytes);
}

/** Text as a native string: its UTF-8 bytes, one code unit each. */
export function textNative(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  let out = "";
  for (const b of encoder.encode(s)) out += String.fromCharCode(b);
  return out;
}

// What stays as it is in a URL path: RFC 3986 pchar (unreserved, sub-delims,
// ":" and "@") and "/"; every other byte is %XX.
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** A native (byte) path percent-encoded for a URL or a Location header. */
export function quotePath(native: string): string {
  let out = "";
  for (let i = 0; i < native.length; i++) {
    const c = native[i];
    const code = native.charCodeAt(i);
    if (code > 0xff) {
      out += quotePath(textNative(c));
    } else if (PATH_SAFE.test(c)) out += c;
    else out += "%" + code.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
