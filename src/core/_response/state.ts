// `start_response` and `write` (PEP 3333, "The start_response() Callable"
// and "The write() Callable"). Everything is checked at the call, with a
// message naming the bad value: wsgiref fails late, after part of the
// response is on the wire, and before CPython's 2026 fixes (gh-143916,
// gh-144370) it let CR/LF through into the response (response splitting).
import type {
  ErrorStream,
  HeaderPair,
  StartResponse,
  WriteFunction,
} from "../types.ts";
import { logError } from "../_errors.ts";

// RFC 9110 §5.6.2: field names are tokens.
export const TOKEN: RegExp = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.5: no CR, LF, NUL or other controls in a field value (HTAB is
// allowed); code units above 0xFF are not native strings (PEP 3333).
const BAD_VALUE = /[\x00-\x08\x0A-\x1F\x7F\u0100-\uFFFF]/;
// The reason phrase: HTAB, SP, VCHAR, obs-text (RFC 9112 §4).
const STATUS = /^(\d{3}) ([^\x00-\x08\x0A-\x1F\x7F\u0100-\uFFFF]*)$/;

// PEP 3333: "hop-by-hop" headers from an application are a fatal error;
// the server owns the connection and the framing. `trailers` is wsgiref's
// spelling (`util._hoppish`); `trailer` is the real header name.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

const q = JSON.stringify;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? q(value) : typeof value;
}

// Apps send the same few statuses, header names and values (a Content-Type)
// again and again: those already found good are remembered (a bounded
// cache), so the checks cost a lookup instead of a regular expression per
// request. Only short values are looked up: a long one (a cookie, a CSP)
// would cost hashing on every miss.
const CACHE_LIMIT = 256;
const VALUE_CACHED = 64;
const goodStatuses = new Map<string, readonly [number, string]>();
const goodNames = new Set<string>();
const goodValues = new Set<string>();

/** Checks a status line; returns [code, reason]. */
function parseStatus(status: unknown): readonly [number, string] {
  const known = goodStatuses.get(status as string);
  if (known !== undefined) return known;
  if (typeof status !== "string") {
    throw new TypeError(
      `startResponse(): status must be a string like "200 OK", got ${
        describe(status)
      }`,
    );
  }
  const m = STATUS.exec(status);
  if (!m) {
    throw new TypeError(
      `startResponse(): status ${
        q(status)
      } is not "NNN Reason" (three digits, a space, a reason without control characters; PEP 3333)`,
    );
  }
  const code = Number(m[1]);
  // A Web Response carries only final statuses 200-599 (Fetch, "Response
  // constructor"); 1xx is the server's business, not the app's.
  if (code < 200 || code > 599) {
    throw new RangeError(
      `startResponse(): status code ${code} in ${
        q(status)
      } is outside 200-599, the range a response can carry`,
    );
  }
  const parsed = [code, m[2]] as const;
  if (goodStatuses.size < CACHE_LIMIT) goodStatuses.set(status, parsed);
  return parsed;
}

/** Checks a header list; returns it (the same array). */
export function checkHeaders(headers: unknown): HeaderPair[] {
  if (!Array.isArray(headers)) {
    throw new TypeError(
      `startResponse(): headers must be an array of [name, value] pairs, got ${
        describe(headers)
      }`,
    );
  }
  for (const pair of headers) {
    if (
      !Array.isArray(pair) || pair.length !== 2 ||
      typeof pair[0] !== "string" || typeof pair[1] !== "string"
    ) {
      throw new TypeError(
        `startResponse(): each header must be a [name, value] pair of strings, got ${
          Array.isArray(pair) ? q(pair) : describe(pair)
        }`,
      );
    }
    const name = pair[0];
    const value = pair[1];
    if (!goodNames.has(name)) checkName(name);
    if (value.length > VALUE_CACHED || !goodValues.has(value)) {
      checkValue(name, value);
    }
  }
  return headers as HeaderPair[];
}

function checkValue(name: string, value: string): void {
  if (BAD_VALUE.test(value)) {
    throw new TypeError(
      `startResponse(): value ${q(value)} of header ${
        q(name)
      } contains a control character or a character above U+00FF`,
    );
  }
  if (value.length <= VALUE_CACHED && goodValues.size < CACHE_LIMIT) {
    goodValues.add(value);
  }
}

function checkName(name: string): void {
  if (!TOKEN.test(name)) {
    throw new TypeError(
      `startResponse(): header name ${
        q(name)
      } is not an HTTP token (RFC 9110 §5.6.2)`,
    );
  }
  if (HOP_BY_HOP.has(name.toLowerCase())) {
    throw new TypeError(
      `startResponse(): hop-by-hop header ${
        q(name)
      } is not allowed from an application (PEP 3333); the server manages the connection`,
    );
  }
  if (goodNames.size < CACHE_LIMIT) goodNames.add(name);
}

/**
 * The response side of one request: what `startResponse` stored, and what
 * `write()` queued. `committed` turns true with the first non-empty output,
 * the moment PEP 3333 lets headers go out.
 */
export class ResponseState {
  code = 0;
  reason = "";
  headers: HeaderPair[] | null = null;
  committed = false;
  /** Chunks given to `write()` not yet handed on. */
  pending: Uint8Array[] = [];
  /**
   * Set once the body has ended (or failed, or the client left): a
   * `write()` after that would be lost, so it throws, as wsgiref's does
   * (its handler has forgotten the status by then), and is logged here.
   */
  ended: ErrorStream | null = null;

  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (excInfo != null) {
      // PEP 3333: with exc_info after headers went out, re-raise it.
      if (this.committed) throw excInfo;
    } else if (this.headers !== null) {
      throw new Error(
        "startResponse() was already called; a second call must pass the caught error as excInfo",
      );
    }
    const [code, reason] = parseStatus(status);
    this.headers = checkHeaders(headers);
    this.code = code;
    this.reason = reason;
    return this.write;
  };

  readonly write: WriteFunction = (data) => {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(
        `write() takes a Uint8Array, got ${
          describe(data)
        }; encode text with new TextEncoder().encode(...)`,
      );
    }
    if (this.headers === null) {
      throw new Error("write() was called before startResponse()");
    }
    if (this.ended !== null) {
      const error = new Error(
        `write() was called after the response ended; its ${data.length} bytes were not sent`,
      );
      logError(this.ended, error);
      throw error;
    }
    if (data.length === 0) return;
    this.committed = true;
    this.pending.push(data);
  };
}
