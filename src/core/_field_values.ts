// Header field values (RFC 9110 §5.5, §5.6): their whitespace, tokens and
// lists, and how a value is shown in a log line.

/** True for a token character (RFC 9110 §5.6.2 tchar). */
export function isTchar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    (c < 0x80 && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));
}
/** True for SP and HTAB, the only whitespace in a field (OWS). */
export const isOWS = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * Strips a field value's leading and trailing whitespace: only SP and HTAB,
 * the OWS of RFC 9110 §5.5 (`String.prototype.trim` would also strip 0xA0,
 * VT, FF, CR and LF, which are part of a value or not whitespace at all).
 */
export function trimOws(value: string): string {
  let end = value.length;
  let start = 0;
  let c = value.charCodeAt(0);
  while (c === 32 || c === 9) c = value.charCodeAt(++start);
  if (start === end) return "";
  c = value.charCodeAt(end - 1);
  while (c === 32 || c === 9) c = value.charCodeAt(--end - 1);
  return start === 0 && end === value.length ? value : value.slice(start, end);
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
