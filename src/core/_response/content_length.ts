// The Content-Length of a response: the one the server adds when it knows
// the body whole, and the one the application declared, which its body is
// held to (RFC 9112 §6.3, §8).
import type { ErrorStream, HeaderPair } from "../types.ts";
import { failing, type Outcome } from "./outcome.ts";
import { logError } from "../_errors.ts";

/** True when a header list has `lowerName` (compared case-insensitively). */
export function hasHeader(
  headers: readonly HeaderPair[],
  lowerName: string,
): boolean {
  for (const [name] of headers) {
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
      return true;
    }
  }
  return false;
}

/**
 * The `Content-Length` to add for a body of `length` bytes: none when the
 * app set its own, and none on 204 and 304 (RFC 9110 §8.6: forbidden on a
 * 204; on a 304 it must be the length a 200 would have had, which this
 * body does not tell). wsgiref sends one on both.
 */
export function lengthFor(
  code: number,
  headers: HeaderPair[],
  length: number,
): number | null {
  return code === 204 || code === 304 || hasHeader(headers, "content-length")
    ? null
    : length;
}

/**
 * The `Content-Length` the application declared: -1 when it set none (or
 * one that is not a plain decimal number, which is passed on untouched).
 */
export function declaredLength(headers: readonly HeaderPair[]): number {
  for (const [name, value] of headers) {
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      return /^\d{1,15}$/.test(value) ? Number(value) : -1;
    }
  }
  return -1;
}

/**
 * Holds a body to the `Content-Length` the application declared, as
 * waitress does. RFC 9112 §6.3: the length frames the message, so bytes
 * beyond it would be read as the start of the next response (a desync:
 * Node sent them): they are cut, with a warning. RFC 9112 §8: a body that
 * ends short is an incomplete message, which the client can only tell if
 * the connection closes: the body then fails at its end, and each server
 * cuts the connection (Deno and Bun otherwise rewrite the length or send
 * the body chunked and complete; Node left the client waiting).
 */
export function fitLength(out: Outcome): Outcome {
  const declared = out.code === 204 || out.code === 304
    ? -1
    : declaredLength(out.headers);
  if (declared === -1) return out;
  let sent = 0;
  let over = false;
  const body: Uint8Array[] = [];
  for (const chunk of out.body) {
    if (sent + chunk.length > declared) {
      over = true;
      if (declared > sent) body.push(chunk.subarray(0, declared - sent));
      sent = declared;
      break;
    }
    body.push(chunk);
    sent += chunk.length;
  }
  out.body = body;
  if (over) tooLong(out.errors, declared);
  const inner = out.more;
  if (inner === null) {
    if (sent < declared) out.more = failing(tooShort(declared, sent));
    return out;
  }
  if (over || sent === declared) {
    // Nothing more may go out: the app's close() runs when the server
    // closes this pump at the end.
    out.more = { next: () => null, close: () => inner.close() };
    return out;
  }
  const check = (chunk: Uint8Array | null): Uint8Array | null => {
    if (chunk === null) {
      if (sent < declared) throw tooShort(declared, sent);
      return null;
    }
    if (sent + chunk.length > declared) {
      tooLong(out.errors, declared);
      chunk = chunk.subarray(0, declared - sent);
    }
    sent += chunk.length;
    return chunk;
  };
  out.more = {
    next() {
      if (sent >= declared) return null;
      const chunk = inner.next();
      return chunk instanceof Promise ? chunk.then(check) : check(chunk);
    },
    close: () => inner.close(),
  };
  return out;
}

function tooLong(errors: ErrorStream, declared: number): void {
  logError(
    errors,
    `The application's body is longer than the Content-Length: ${declared} it declared; the excess was not sent (RFC 9112 §6.3)`,
  );
}

function tooShort(declared: number, sent: number): Error {
  return new Error(
    `The application declared Content-Length: ${declared} but its body ended after ${sent} bytes; the connection is closed so that the client sees an incomplete response (RFC 9112 §8)`,
  );
}
