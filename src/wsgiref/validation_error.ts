// The error wsgiref.validate's checks throw (Python's AssertionError).
/**
 * Thrown by a {@linkcode validator}-wrapped application when the server or
 * the application breaks a rule of PEP 3333 as `wsgiref.validate` checks it
 * (Python raises `AssertionError` there). The message names the rule and
 * the offending value.
 *
 * @example Usage
 * ```ts
 * import { validator, WSGIValidationError } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const app = validator((_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [];
 * });
 * // An environ without the keys PEP 3333 requires (a server's bug):
 * const broken = JSON.parse("{}");
 * assert.throws(() => app(broken, () => () => {}), WSGIValidationError);
 * ```
 */
export class WSGIValidationError extends Error {
  /** Always `"WSGIValidationError"`. */
  override name: string = "WSGIValidationError";
}
