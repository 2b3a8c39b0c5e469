/**
 * An in-process test client: requests go straight to the application, with
 * no socket, and come back as Web `Response`s (like Hono's
 * `app.request()` or werkzeug's `Client`).
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  WSGIApplication,
} from "./types.ts";
import {
  type ConnectionInfo,
  handleRequest,
  type WSGIOptions,
} from "./handler.ts";

/**
 * Options for {@linkcode testClient}: how the environ is filled
 * ({@linkcode WSGIOptions}), and the connection the requests seem to come
 * over ({@linkcode ConnectionInfo}; `REMOTE_ADDR` is `"127.0.0.1"` unless
 * given).
 *
 * @example Usage
 * ```ts
 * import type { TestClientOptions } from "@wsgi/wsgi";
 * const options: TestClientOptions = {
 *   baseUrl: "https://example.com/",
 *   remoteAddr: "203.0.113.7",
 * };
 * ```
 */
export interface TestClientOptions extends WSGIOptions, ConnectionInfo {
  /** What paths are resolved against. @default {"http://localhost/"} */
  baseUrl?: string | URL;
}

/**
 * What a request is aimed at: a path such as `"/hello?x=1"` (resolved
 * against the client's `baseUrl`; a leading `//` stays part of the path),
 * a full URL, or a ready-made `Request`.
 *
 * @example Usage
 * ```ts
 * import type { TestTarget } from "@wsgi/wsgi";
 * const target: TestTarget = "/search?q=wsgi";
 * ```
 */
export type TestTarget = string | URL | Request;

/**
 * The client {@linkcode testClient} returns. Every method resolves to the
 * application's answer as a `Response`; none rejects for an application
 * error (that is a 500, with the stack on `wsgi.errors`).
 *
 * @example Usage
 * ```ts
 * import { demoApp, type TestClient, testClient } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const client: TestClient = testClient(demoApp);
 * assert.equal((await client.get("/")).status, 200);
 * ```
 */
export interface TestClient {
  /** Sends a request; `init` is `fetch`'s second argument. */
  request(target: TestTarget, init?: RequestInit): Promise<Response>;
  /** Sends a GET request. */
  get(target: TestTarget, init?: RequestInit): Promise<Response>;
  /** Sends a HEAD request (the response has no body). */
  head(target: TestTarget, init?: RequestInit): Promise<Response>;
  /** Sends a POST request with a body. */
  post(
    target: TestTarget,
    body?: BodyInit | null,
    init?: RequestInit,
  ): Promise<Response>;
  /** Sends a PUT request with a body. */
  put(
    target: TestTarget,
    body?: BodyInit | null,
    init?: RequestInit,
  ): Promise<Response>;
  /** Sends a PATCH request with a body. */
  patch(
    target: TestTarget,
    body?: BodyInit | null,
    init?: RequestInit,
  ): Promise<Response>;
  /** Sends a DELETE request. */
  delete(target: TestTarget, init?: RequestInit): Promise<Response>;
}

function toRequest(
  target: TestTarget,
  init: RequestInit | undefined,
  base: URL,
): Request {
  if (init?.body instanceof ReadableStream && !("duplex" in init)) {
    // Fetch requires `duplex: "half"` for a streamed request body.
    init = { ...init, duplex: "half" } as RequestInit;
  }
  const isRequest = target instanceof Request;
  // `new URL("//x", base)` would read "x" as a host name: a path is a path.
  const url = isRequest
    ? new URL(target.url)
    : typeof target === "string" && target.startsWith("/")
    ? new URL(base.origin + target)
    : new URL(target, base);
  const headers = new Headers(
    init?.headers ?? (isRequest ? target.headers : undefined),
  );
  // RFC 9112 §3.2: an HTTP/1.1 client always sends Host (HTTP_HOST).
  if (!headers.has("host")) headers.set("host", url.host);
  init = { ...init, headers };
  return isRequest ? new Request(target, init) : new Request(url, init);
}

/**
 * Makes an in-process test client for a WSGI application: requests are
 * built as Web `Request`s and handed to the application through
 * {@linkcode handleRequest}, exactly as a server would, without a socket.
 * Use it in your own tests with any test runner.
 *
 * @example Usage
 * ```ts
 * import { testClient, type WSGIApplication } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const app: WSGIApplication = (environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode(`${environ.PATH_INFO}?${environ.QUERY_STRING}`)];
 * };
 * const client = testClient(app);
 * const response = await client.get("/hello?name=world");
 * assert.equal(response.status, 200);
 * assert.equal(response.headers.get("content-type"), "text/plain");
 * assert.equal(await response.text(), "/hello?name=world");
 * ```
 *
 * @example Posting a form
 * ```ts
 * import { testClient } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const client = testClient((environ, startResponse) => {
 *   const body = environ["wsgi.input"].read();
 *   startResponse("200 OK", [["Content-Type", `${environ.CONTENT_TYPE}`]]);
 *   return [body];
 * });
 * const response = await client.post("/form", new URLSearchParams({ a: "1" }));
 * assert.equal(await response.text(), "a=1");
 * assert.match(response.headers.get("content-type")!, /urlencoded/);
 * ```
 *
 * @param app The WSGI application.
 * @param options Environ options, body limits, connection facts and the
 *   base URL.
 * @returns The client.
 */
export function testClient<
  Input extends InputStream | AsyncInputStream = InputStream,
>(
  app: WSGIApplication<Input>,
  options: TestClientOptions = {},
): TestClient {
  const base = new URL(options.baseUrl ?? "http://localhost/");
  const conn: ConnectionInfo = {
    remoteAddr: options.remoteAddr ?? "127.0.0.1",
    remotePort: options.remotePort,
    serverName: options.serverName,
    serverPort: options.serverPort,
    scheme: options.scheme,
    protocol: options.protocol,
  };
  const request = (target: TestTarget, init?: RequestInit) =>
    handleRequest(toRequest(target, init, base), app, options, conn);
  const withBody =
    (method: string) =>
    (target: TestTarget, body?: BodyInit | null, init?: RequestInit) =>
      request(target, { ...init, method, body: body ?? null });
  return {
    request,
    get: (target, init) => request(target, { ...init, method: "GET" }),
    head: (target, init) => request(target, { ...init, method: "HEAD" }),
    post: withBody("POST"),
    put: withBody("PUT"),
    patch: withBody("PATCH"),
    delete: (target, init) => request(target, { ...init, method: "DELETE" }),
  };
}
