/**
 * HTTP errors as exceptions (werkzeug's `HTTPException` and `abort`):
 * throw one anywhere under a {@linkcode Router} handler and the router
 * answers with its status, headers and message.
 *
 * @module
 */
import { phrase } from "./_status.ts";

/**
 * Options for {@linkcode HTTPError}: extra response headers (`Allow` for a
 * 405, `Retry-After` for a 429 or 503, `WWW-Authenticate` for a 401).
 *
 * @example Usage
 * ```ts
 * import type { HTTPErrorOptions } from "@wsgi/wsgi/toolkit";
 * const options: HTTPErrorOptions = { headers: { "Retry-After": "30" } };
 * ```
 */
export interface HTTPErrorOptions {
  /** Headers sent with the error response. */
  headers?: HeadersInit;
  /** The underlying error, kept as `cause`. */
  cause?: unknown;
}

/**
 * An HTTP error response, thrown (werkzeug's `HTTPException`). `status` is
 * the code, `description` the text the client sees (the reason phrase when
 * none is given: never an internal message unless you pass it).
 * {@linkcode Router} catches it and answers with
 * `WSGIResponse.fromError(error)`; `WSGIRequest.json()` throws one with 400,
 * 413 or 415.
 *
 * @example Usage
 * ```ts
 * import { HTTPError } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 * const error = new HTTPError(404, "No user 7");
 * assert.equal(error.status, 404);
 * assert.equal(error.message, "404 Not Found: No user 7");
 * ```
 */
export class HTTPError extends Error {
  /** The status code (400 to 599, or any code a handler wants to stop with). */
  readonly status: number;
  /** What the client is told. */
  readonly description: string;
  /** Headers sent with the error response. */
  readonly headers: Headers;

  /**
   * An error for `status`, telling the client `description`.
   *
   * @param status The status code.
   * @param description What the client is told; the reason phrase when omitted.
   * @param options Extra headers and a cause.
   */
  constructor(
    status: number,
    description?: string,
    options: HTTPErrorOptions = {},
  ) {
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new TypeError(`HTTPError: status ${status} is not a status code`);
    }
    const reason = phrase(status);
    super(
      description
        ? `${status} ${reason}: ${description}`
        : `${status} ${reason}`,
      { cause: options.cause },
    );
    this.name = "HTTPError";
    this.status = status;
    this.description = description ?? reason;
    this.headers = new Headers(options.headers);
  }
}

/**
 * Stops the request with an HTTP error (werkzeug's `abort`): throws an
 * {@linkcode HTTPError} that the router turns into the response.
 *
 * @example Usage
 * ```ts
 * import { abort, HTTPError } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 * assert.throws(() => abort(403, "Admins only"), HTTPError);
 * ```
 *
 * @param status The status code.
 * @param description What the client is told.
 * @param options Extra headers.
 * @throws {HTTPError} Always.
 */
export function abort(
  status: number,
  description?: string,
  options?: HTTPErrorOptions,
): never {
  throw new HTTPError(status, description, options);
}
