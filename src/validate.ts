/**
 * wsgiref's `validate` module: a middleware that checks both sides of the
 * WSGI conversation (PEP 3333) and throws at the first violation.
 *
 * @module
 */
import type {
  ErrorStream,
  StartResponse,
  WriteFunction,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "./types.ts";
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

export { WSGIValidationError } from "./_validate_checks.ts";

export function validator(application: WSGIApplication): WSGIApplication {
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
    environ["wsgi.input"] = typeof input[Symbol.iterator] === "function"
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
    const result = application(environ, wrapper as StartResponse);
    if (result instanceof Promise) {
      return result.then((body) => wrapBody(body, started, errors));
    }
    return wrapBody(result, started, errors);
  };
}
