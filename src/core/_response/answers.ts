// Every answer the server makes itself, instead of the application's: the
// refusals before the app runs (4xx, 503) and wsgiref's 500 page. Each
// text is written here once; the shims, the core and cgi.ts only pick one.
import type { ErrorStream } from "../types.ts";
import type { Outcome } from "./outcome.ts";
import { consoleErrors } from "../_errors.ts";
import { RETRY_AFTER } from "../_overload.ts";

/**
 * wsgiref's error page (`BaseHandler.error_body`): 59 bytes of text, sent
 * when the application fails before its headers are committed.
 */
const ERROR_BODY = new TextEncoder().encode(
  "A server error occurred.  Please contact the administrator.",
);

/**
 * A refusal: a short UTF-8 text known whole, counted as the server's
 * (the metrics' refusals); `close` ends the connection after it.
 */
function refusal(
  code: number,
  reason: string,
  text: string,
  close = false,
): Outcome {
  const body = new TextEncoder().encode(text);
  const out: Outcome = {
    code,
    reason,
    headers: [["Content-Type", "text/plain; charset=utf-8"]],
    length: body.length,
    body: [body],
    more: null,
    errors: consoleErrors,
    refused: true,
  };
  if (close) out.close = true;
  return out;
}

/**
 * wsgiref's 500 page for an application that failed before committing its
 * headers (`BaseHandler.handle_error`); the error itself goes to
 * `wsgi.errors`, not to the client.
 */
export function serverError(errors: ErrorStream): Outcome {
  return {
    code: 500,
    reason: "Internal Server Error",
    headers: [["Content-Type", "text/plain"]],
    length: ERROR_BODY.length,
    body: [ERROR_BODY],
    more: null,
    errors,
  };
}

/**
 * The 400 for a Host header with an invalid value, or sent twice (RFC 9112
 * §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
 * HTTP/1.1 request message that lacks a Host header field and to any
 * request message that contains more than one Host header field line or a
 * Host header field with an invalid field value"). The value is named,
 * quoted as JSON so that no control character reaches a log or terminal.
 */
export function badHost(host: string): Outcome {
  return refusal(
    400,
    "Bad Request",
    `Bad Request: the Host header is not a host[:port]: ${
      JSON.stringify(host)
    }\n`,
  );
}

/** The 400 for a Content-Length sent as a list (RFC 9112 §6.3). */
export function badContentLength(declared: string): Outcome {
  return refusal(
    400,
    "Bad Request",
    `Content-Length must be one number, not ${JSON.stringify(declared)}\n`,
  );
}

/** The 400 for a body the client cut short or framed badly mid-way. */
export function malformedBody(): Outcome {
  return refusal(400, "Bad Request", "Malformed request body\n");
}

/** The 400 for a CGI request body that could not be read (cgi.ts). */
export function unreadableBody(): Outcome {
  return refusal(400, "Bad Request", "Unreadable request body\n");
}

/**
 * The 408 for a body that stalled (RFC 9110 §15.5.9): the connection then
 * closes, since the rest of the body may still come and cannot be told
 * from a next request.
 */
export function requestTimeout(): Outcome {
  return refusal(408, "Request Timeout", "The request body stalled\n", true);
}

/** The 413 for a body over `limit` bytes (RFC 9110 §15.5.14). */
export function tooLarge(limit: number): Outcome {
  return refusal(
    413,
    "Content Too Large",
    `Request body is larger than the limit of ${limit} bytes\n`,
  );
}

/**
 * The 431 for a request head over `maxHeaderCount` or `maxHeaderSize`
 * (RFC 6585 §5), where the server, not the runtime, counted; the
 * connection closes, as Node and Bun do for their own 431.
 */
export function headersTooLarge(why: string): Outcome {
  return refusal(431, "Request Header Fields Too Large", why + "\n", true);
}

/**
 * The 431 where only "more than `max` fields" is known (Node keeps one
 * field past its `maxHeadersCount` and drops the rest).
 */
export function tooManyFields(max: number): Outcome {
  return headersTooLarge(
    `The request has more than ${max} header fields (maxHeaderCount)`,
  );
}

/**
 * The 503 for a request over `maxConcurrency` (RFC 9110 §15.6.4, with
 * Retry-After, §10.2.3); the connection then closes.
 */
export function overloaded(max: number): Outcome {
  const out = refusal(
    503,
    "Service Unavailable",
    `The server is at its limit of ${max} requests at once\n`,
    true,
  );
  out.headers.push(["Retry-After", String(RETRY_AFTER)]);
  return out;
}
