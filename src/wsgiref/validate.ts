/**
 * wsgiref's `validate` module: a middleware that checks both sides of the
 * WSGI conversation (PEP 3333) and throws at the first violation.
 *
 * @module
 */
import type {
  AsyncInputStream,
  ErrorStream,
  InputStream,
  StartResponse,
  WriteFunction,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../core/types.ts";
import {
  check,
  checkContentType,
  checkEnviron,
  checkHeaders,
  checkStatus,
  show,
  WSGIREF,
} from "./_validate_checks.ts";
import {
  AsyncInputWrapper,
  ErrorWrapper,
  InputWrapper,
  wrapBody,
} from "./_validate_wrappers.ts";

export { WSGIValidationError } from "./validation_error.ts";

/**
 * wsgiref's `validator`: wraps an application in a middleware that checks
 * both sides of the conversation against PEP 3333, as `wsgiref.validate`
 * does: the environ, `wsgi.input` and `wsgi.errors` the server passes, and
 * the status, headers, `write()` data, body chunks and `close()` call of
 * the application. A violation throws a {@linkcode WSGIValidationError};
 * softer problems (no `QUERY_STRING`, an unusual `REQUEST_METHOD`, a
 * status without a space after the code) are written to `wsgi.errors` as
 * `WSGIWarning: ...` lines. Nothing in the request or the response is
 * changed, except that the body is no longer a list, so a server cannot
 * compute `Content-Length` from it.
 *
 * As in wsgiref, `wsgi.input.read()` must get a size, and header values
 * may not contain TAB. A body never closed is reported to `wsgi.errors`
 * when (if) the engine garbage-collects it.
 *
 * @example Usage
 * ```ts
 * import { handleRequest, validator } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const app = validator((_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode("Hello")];
 * });
 * const response = await handleRequest(new Request("http://localhost/"), app);
 * assert.equal(await response.text(), "Hello");
 * ```
 *
 * @param application The application to check.
 * @returns The checking application.
 */
export function validator<
  Input extends InputStream | AsyncInputStream = InputStream,
>(
  application: WSGIApplication<Input>,
): WSGIApplication<Input> {
  if (typeof application !== "function") {
    throw new TypeError(
      `validator() takes a function, got ${show(application)}`,
    );
  }
  return function lintApp(...args: unknown[]): WSGIBody | Promise<WSGIBody> {
    // Check 1 (JavaScript has no keyword arguments to refuse).
    check(
      args.length === 2 && typeof args[1] === "function",
      `The application must be called with two arguments, environ and startResponse; got ${args.length}: ${
        show(args)
      }`,
    );
    const [environ, startResponse] = args as [WSGIEnvironment, StartResponse];
    const warnings = checkEnviron(environ);
    const errors = environ["wsgi.errors"] as ErrorStream;
    const warn = (text: string): void =>
      errors.write(`WSGIWarning: ${text} ${WSGIREF}\n`);
    warnings.forEach(warn);
    // Check 2.
    const input = environ["wsgi.input"] as Partial<Iterable<unknown>>;
    // Either wrapper: the environ's type names the buffered stream, the
    // application may have been served with bufferInput: false.
    (environ as Record<string, unknown>)["wsgi.input"] =
      typeof input[Symbol.iterator] === "function"
        ? new InputWrapper(input)
        : new AsyncInputWrapper(input);
    environ["wsgi.errors"] = new ErrorWrapper(errors);
    const started = { value: false };
    const wrapper = (...a: unknown[]): WriteFunction => {
      check(
        a.length === 2 || a.length === 3,
        `startResponse() takes two or three arguments (status, headers, excInfo), got ${a.length}: ${
          show(a)
        }`,
      );
      const code = checkStatus(a[0], warn);
      checkContentType(code, checkHeaders(a[1]));
      // Check 45. Python wants None or a sys.exc_info() tuple; JavaScript
      // can throw any value, but a falsy one is ambiguous: wsgiref's
      // handler tests `if exc_info:`, this core `excInfo != null`.
      check(
        a[2] == null || Boolean(a[2]),
        `excInfo must be null, undefined or the caught error, got ${
          show(a[2])
        }`,
      );
      started.value = true;
      const write = (startResponse as (...a: unknown[]) => unknown)(...a);
      // Check 46.
      return (data: Uint8Array): void => {
        check(
          data instanceof Uint8Array,
          `write() takes a Uint8Array, got ${show(data)}`,
        );
        (write as WriteFunction)(data);
      };
    };
    const result = (application as WSGIApplication)(
      environ,
      wrapper as StartResponse,
    );
    if (result instanceof Promise) {
      return result.then((body) => wrapBody(body, started, errors));
    }
    return wrapBody(result, started, errors);
  };
}
