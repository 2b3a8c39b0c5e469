// A strict UTF-8 decoder for short bodies, in plain JavaScript: null for
// anything that is not well-formed UTF-8 (WHATWG Encoding's decoder with
// its fatal flag: no overlong forms, no surrogates, nothing past
// U+10FFFF). A well-formed body decoded here and encoded again is the same
// bytes, which is what lets a shim hand a runtime a string instead.

/** The text of `bytes` if they are well-formed UTF-8, else null. */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  let text = "";
  const n = bytes.length;
  for (let i = 0; i < n;) {
    const a = bytes[i];
    if (a < 0x80) {
      text += String.fromCharCode(a);
      i += 1;
      continue;
    }
    let code: number;
    if (a >= 0xc2 && a <= 0xdf) {
      if (i + 1 >= n) return null;
      const b = bytes[i + 1];
      if ((b & 0xc0) !== 0x80) return null;
      code = ((a & 0x1f) << 6) | (b & 0x3f);
      i += 2;
    } else if (a >= 0xe0 && a <= 0xef) {
      if (i + 2 >= n) return null;
      const b = bytes[i + 1];
      const c = bytes[i + 2];
      // E0 must not be overlong (A0-BF); ED must not reach the surrogates.
      const low = a === 0xe0 ? 0xa0 : 0x80;
      const high = a === 0xed ? 0x9f : 0xbf;
      if (b < low || b > high || (c & 0xc0) !== 0x80) return null;
      code = ((a & 0x0f) << 12) | ((b & 0x3f) << 6) | (c & 0x3f);
      i += 3;
    } else if (a >= 0xf0 && a <= 0xf4) {
      if (i + 3 >= n) return null;
      const b = bytes[i + 1];
      const c = bytes[i + 2];
      const d = bytes[i + 3];
      // F0 must not be overlong (90-BF); F4 must stay under U+110000.
      const low = a === 0xf0 ? 0x90 : 0x80;
      const high = a === 0xf4 ? 0x8f : 0xbf;
      if (
        b < low || b > high || (c & 0xc0) !== 0x80 || (d & 0xc0) !== 0x80
      ) return null;
      code = ((a & 0x07) << 18) | ((b & 0x3f) << 12) | ((c & 0x3f) << 6) |
        (d & 0x3f);
      i += 4;
      code -= 0x10000;
      text += String.fromCharCode(
        0xd800 + (code >> 10),
        0xdc00 + (code & 0x3ff),
      );
      continue;
    } else return null;
    text += String.fromCharCode(code);
  }
  return text;
}
