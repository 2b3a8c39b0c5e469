// What the environ is made from, as each runtime's shim describes a
// request. Kept apart from environ.ts so that makeEnviron and the lazy
// environ it builds (_lazy_environ.ts) both import it without a circle;
// environ.ts re-exports it as part of the public API.

/**
 * What the environ is made from: the request line, the headers, and the
 * connection. All strings are native strings (bytes shown as latin-1), as
 * `Request.headers` and Node's `rawHeaders` already give them.
 *
 * @example Usage
 * ```ts
 * import type { RequestFacts } from "@wsgi/wsgi";
 * const facts: RequestFacts = {
 *   method: "GET",
 *   target: "/hello?name=world",
 *   headers: new Headers({ host: "example.com" }),
 *   serverName: "example.com",
 *   serverPort: 80,
 * };
 * ```
 */
export interface RequestFacts {
  /** The method token as sent (`REQUEST_METHOD`). */
  method: string;
  /** The raw request-target in origin form: path, then `?query` if any. */
  target: string;
  /** `SERVER_PROTOCOL`, such as `"HTTP/1.1"` (the default). */
  protocol?: string;
  /**
   * The request headers: a Web `Headers`, or Node's flat `rawHeaders` list
   * (`[name, value, name, value, ...]`). They are read only when the
   * application first reads a key made from them (`HTTP_*`, `CONTENT_TYPE`,
   * `CONTENT_LENGTH`) or enumerates the environ; so is `remoteAddr` and
   * `remotePort`. Each may be a getter, so that a runtime is asked for them
   * only when they are needed.
   */
  headers: Headers | readonly string[];
  /** The client's address (`REMOTE_ADDR`). */
  remoteAddr?: string;
  /** The client's port (`REMOTE_PORT`; the key is left out without it). */
  remotePort?: number;
  /** `SERVER_NAME`: the bound host name. */
  serverName: string;
  /** `SERVER_PORT`. */
  serverPort: number | string;
  /** `wsgi.url_scheme`; `"http"` by default. */
  scheme?: "http" | "https";
  /**
   * True when the server has no body to give for this request whatever its
   * headers announce (Bun drops the body of a GET, HEAD or TRACE request):
   * `CONTENT_LENGTH` is then `""`, as `wsgi.input` is empty, never a length
   * the application could not read.
   */
  bodyDropped?: boolean;
}
