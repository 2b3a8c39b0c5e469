// Conditional requests (RFC 9110 §13) and single byte ranges (§14) for the
// static files: which status a GET or HEAD gets from its validators.

/** What a representation is validated by. */
export interface Validators {
  /** The strong entity tag, quoted: `"5f1c-2800"`. */
  etag: string;
  /** Last modification, whole seconds since the epoch; 0 when unknown. */
  modified: number;
}

/** The precondition headers of a request, as sent (null when absent). */
interface Conditions {
  ifMatch: string | null;
  ifNoneMatch: string | null;
  ifModifiedSince: string | null;
  ifUnmodifiedSince: string | null;
}

/** The entity tags of an If-Match / If-None-Match list (§13.1.1). */
function tags(list: string): string[] {
  // An etag may hold commas (etagc includes %x2C), so match, never split.
  return list.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

/** Seconds since the epoch of an HTTP-date, or null when invalid. */
function seconds(date: string): number | null {
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/**
 * The status the preconditions give, in RFC 9110 §13.2.2's order: 412
 * (If-Match false, else If-Unmodified-Since false), 304 (If-None-Match
 * false, else If-Modified-Since false, for GET and HEAD), or 200 to go on.
 */
export function evaluate(
  c: Conditions,
  v: Validators,
  method: string,
): 200 | 304 | 412 {
  // §13.1.1: If-Match uses the strong comparison; our tags are strong.
  if (c.ifMatch !== null) {
    const list = c.ifMatch.trim();
    if (list !== "*" && !tags(list).includes(v.etag)) return 412;
  } else if (c.ifUnmodifiedSince !== null && v.modified > 0) {
    const since = seconds(c.ifUnmodifiedSince);
    if (since !== null && v.modified > since) return 412;
  }
  const safe = method === "GET" || method === "HEAD";
  if (c.ifNoneMatch !== null) {
    // §13.1.2: the weak comparison: W/"x" matches "x".
    const list = c.ifNoneMatch.trim();
    const match = list === "*" ||
      tags(list).some((t) => t.replace(/^W\//, "") === v.etag);
    if (match) return safe ? 304 : 412;
  } else if (c.ifModifiedSince !== null && safe && v.modified > 0) {
    // §13.1.3: only without If-None-Match, only for GET and HEAD.
    const since = seconds(c.ifModifiedSince);
    if (since !== null && v.modified <= since) return 304;
  }
  return 200;
}

/** A satisfiable byte range: `start` inclusive, `end` exclusive. */
interface ByteRange {
  start: number;
  end: number;
}

/**
 * The one byte range a Range header asks of `size` bytes: a range, or
 * "unsatisfiable" (416), or null to ignore the header and send 200 (an
 * unknown unit, a malformed spec, or several ranges: §14.2 lets a server
 * ignore Range).
 */
export function byteRange(
  header: string,
  size: number,
): ByteRange | "unsatisfiable" | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return null;
  const [, first, last] = m;
  if (first === "" && last === "") return null;
  if (first === "") {
    // A suffix: the last N bytes (§14.1.2); N = 0 selects nothing.
    const n = Number(last);
    if (n === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return "unsatisfiable";
  if (last !== "") {
    const stop = Number(last);
    if (stop < start) return null; // invalid: ignored (§14.1.1)
    if (start >= size) return "unsatisfiable";
    return { start, end: Math.min(stop + 1, size) };
  }
  return start >= size ? "unsatisfiable" : { start, end: size };
}

/**
 * Whether an If-Range lets the Range apply (§13.1.5): its entity tag
 * equals ours strongly, or its date equals our Last-Modified exactly.
 */
export function rangeStillValid(ifRange: string, v: Validators): boolean {
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === v.etag;
  const since = seconds(value);
  return since !== null && v.modified > 0 && since === v.modified;
}
