// The request metrics' memory layout: one flat Float64Array per server (or
// per worker), so that recording a request is a few array increments, a
// worker's numbers travel to the supervisor as (index, value) pairs, and
// summing workers is adding arrays. Rendering is _metrics_text.ts.

/** HTTP methods with their own label (OpenTelemetry: others are `_OTHER`). */
export const METHODS: readonly string[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
  "_OTHER",
];

/** Status classes, `1xx` to `5xx`. */
export const CLASSES: readonly string[] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/**
 * OpenTelemetry's recommended buckets for `http.server.request.duration`
 * (semantic conventions, HTTP metrics), in seconds.
 */
export const BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];

/** The answers the server makes itself, before or instead of the app. */
export const REFUSALS: readonly number[] = [400, 408, 413, 431, 503];

/** Label sets: method × status class. */
export const SETS: number = METHODS.length * CLASSES.length;
/** Buckets per label set: BUCKETS and +Inf, not cumulative. */
export const SLOTS: number = BUCKETS.length + 1;

/** Offsets into the array. */
export const REQUESTS = 0;
export const HISTOGRAM: number = REQUESTS + SETS;
export const SUM: number = HISTOGRAM + SETS * SLOTS;
export const IN_FLIGHT: number = SUM + SETS;
export const REQUEST_BYTES: number = IN_FLIGHT + 1;
export const RESPONSE_BYTES: number = REQUEST_BYTES + 1;
export const REFUSED: number = RESPONSE_BYTES + 1;
export const SIZE: number = REFUSED + REFUSALS.length;

/** The label set of a method (index into METHODS). */
function methodIndex(method: string): number {
  switch (method) {
    case "GET":
      return 0;
    case "HEAD":
      return 1;
    case "POST":
      return 2;
    case "PUT":
      return 3;
    case "DELETE":
      return 4;
    case "CONNECT":
      return 5;
    case "OPTIONS":
      return 6;
    case "TRACE":
      return 7;
    case "PATCH":
      return 8;
    default:
      return 9;
  }
}

/** Records one finished request into `v`. */
export function record(
  v: Float64Array,
  method: string,
  code: number,
  seconds: number,
  received: number,
  sent: number,
  refused: boolean,
): void {
  let c = (code / 100 | 0) - 1;
  if (c < 0) c = 0;
  else if (c > 4) c = 4;
  const set = methodIndex(method) * 5 + c;
  v[REQUESTS + set]++;
  let b = 0;
  while (b < 14 && seconds > BUCKETS[b]) b++;
  v[HISTOGRAM + set * SLOTS + b]++;
  v[SUM + set] += seconds;
  v[IN_FLIGHT]--;
  v[REQUEST_BYTES] += received;
  v[RESPONSE_BYTES] += sent;
  if (refused) {
    const r = REFUSALS.indexOf(code);
    if (r !== -1) v[REFUSED + r]++;
  }
}

/** The non-zero entries as flat (index, value) pairs, for the wire. */
export function toPairs(v: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) out.push(i, v[i]);
  return out;
}

/** The array that `toPairs` came from; null when `pairs` is malformed. */
export function fromPairs(pairs: unknown): Float64Array | null {
  if (!Array.isArray(pairs) || pairs.length % 2 !== 0) return null;
  const v = new Float64Array(SIZE);
  for (let i = 0; i < pairs.length; i += 2) {
    const at = pairs[i];
    const value = pairs[i + 1];
    if (
      !Number.isInteger(at) || at < 0 || at >= SIZE ||
      typeof value !== "number" || !Number.isFinite(value)
    ) return null;
    v[at] = value;
  }
  return v;
}

/** Adds `from` into `into`. */
export function addInto(into: Float64Array, from: Float64Array): void {
  for (let i = 0; i < SIZE; i++) into[i] += from[i];
}
