// Native strings (PEP 3333, "Unicode Issues"): strings whose code units are
// all 0x00–0xFF, each standing for one byte. `TextDecoder("latin1")` is not
// used anywhere: the Encoding Standard maps that label to windows-1252,
// which turns 0x80–0x9F into other characters and breaks the round trip.

const CHUNK = 0x2000;

/** Bytes to a native string, one code unit per byte. */
function bytesToNative(bytes: Uint8Array): string {
  if (bytes.length <= CHUNK) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  let out = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode.apply(
      null,
      bytes.subarray(i, i + CHUNK) as unknown as number[],
    );
  }
  return out;
}

const utf8Encoder = new TextEncoder();

/**
 * Text to a native string: its UTF-8 bytes, one code unit per byte, as
 * wsgiref shows what a runtime had decoded as UTF-8 (`/café` is
 * `"/caf\u00c3\u00a9"`). ASCII text is returned as it is, without encoding.
 */
export function textToNative(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      return bytesToNative(utf8Encoder.encode(text));
    }
  }
  return text;
}

/**
 * A native string back to its bytes. Throws a `TypeError` naming the string
 * when a code unit is above 0xFF (such a string is not a native string).
 */
export function nativeToBytes(
  s: string,
  what = "String",
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      throw new TypeError(
        `${what} ${JSON.stringify(s)} has the character ${
          JSON.stringify(s[i])
        } (U+${
          c.toString(16).toUpperCase().padStart(4, "0")
        }) at index ${i}: native strings hold only code units 0x00-0xFF (PEP 3333); encode text with TextEncoder first`,
      );
    }
    out[i] = c;
  }
  return out;
}

/** Index of the first code unit above 0xFF, or -1. */
export function firstNonLatin1(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return i;
  }
  return -1;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Python's `urllib.parse.unquote(s, "iso-8859-1")`, as wsgiref applies it
 * to PATH_INFO: each `%XX` becomes the one byte it names, shown as latin-1
 * (`%C3%A9` is `"Ã©"`, `%E9` is `"é"`, `%2F` is `"/"`); malformed escapes
 * such as `%zz` stay as they are. Never UTF-8-decoded.
 */
export function unquoteToNative(s: string): string {
  let i = s.indexOf("%");
  if (i === -1) return s;
  let out = s.slice(0, i);
  let from = i;
  while (i !== -1) {
    const hi = hexValue(s.charCodeAt(i + 1));
    const lo = hi === -1 ? -1 : hexValue(s.charCodeAt(i + 2));
    if (lo === -1) {
      i = s.indexOf("%", i + 1);
      continue;
    }
    out += s.slice(from, i) + String.fromCharCode(hi * 16 + lo);
    from = i + 3;
    i = s.indexOf("%", from);
  }
  return out + s.slice(from);
}
