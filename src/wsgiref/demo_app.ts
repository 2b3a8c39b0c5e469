/**
 * wsgiref's `demo_app`.
 *
 * @module
 */
import type {
  StartResponse,
  WSGIBody,
  WSGIEnvironment,
} from "../core/types.ts";

// Python's repr() of a str, close enough for the demo's listing.
function repr(value: unknown): string {
  if (typeof value === "string") {
    return "'" + value.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(
      /[\x00-\x1f\x7f-\x9f]/g,
      (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"),
    ) + "'";
  }
  if (Array.isArray(value)) return `(${value.join(", ")})`;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "function") return `<function ${value.name}>`;
  if (typeof value === "object" && value !== null) {
    return `<${value.constructor?.name ?? "object"} object>`;
  }
  return String(value);
}

/**
 * wsgiref's `demo_app`: `Hello world!`, a blank line, then one
 * `KEY = value` line per environ key, sorted; the default application of
 * the server and the command line.
 *
 * @example Usage
 * ```ts
 * import { demoApp, handleRequest } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const response = await handleRequest(new Request("http://localhost/"), demoApp);
 * assert.match(await response.text(), /^Hello world!\n\n/);
 * ```
 *
 * @param environ The WSGI environ.
 * @param startResponse The WSGI start_response callable.
 * @returns The encoded page, as a one-element list.
 */
export function demoApp(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
): WSGIBody {
  let text = "Hello world!\n\n";
  for (const key of Object.keys(environ).sort()) {
    text += `${key} = ${repr(environ[key])}\n`;
  }
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(text)];
}
