// RFC 7239 `Forwarded`: its grammar, and the readable tail of a malformed
// value. The nodes its `for=` names are read in nodes.ts.
import { isOWS, isTchar, show } from "../_field_values.ts";

/** One forwarded-element: its parameters, names lower-cased. */
type ForwardedElement = Record<string, string>;

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
