// The options every way of serving an application takes (handleRequest,
// toFetchHandler, makeServer, the CGI handlers, the test client).
import type { EnvironOptions } from "./environ.ts";

/**
 * Options for serving an application.
 *
 * @example Usage
 * ```ts
 * import type { WSGIOptions } from "@wsgi/wsgi";
 * const options: WSGIOptions = { maxBodySize: 1024 * 1024 };
 * ```
 */
export interface WSGIOptions extends EnvironOptions {
  /**
   * The largest request body accepted, in bytes; a larger one gets
   * `413 Content Too Large` and the application is not called.
   * @default {10485760} (10 MiB)
   */
  maxBodySize?: number;
  /**
   * Read the whole body before calling the application, so that
   * `wsgi.input` reads are synchronous, as in Python. With `false`,
   * `wsgi.input` is an {@linkcode AsyncInputStream}: `await
   * input.read()` pulls the body as it arrives (for large uploads).
   * @default {true}
   */
  bufferInput?: boolean;
}

/**
 * The default `maxBodySize`: 10 MiB.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_MAX_BODY_SIZE } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_MAX_BODY_SIZE, 10 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_BODY_SIZE: number = 10 * 1024 * 1024;
