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
} from "../core/types.ts";
import {
  type ConnectionInfo,
  handleRequest,
  type WSGIOptions,
} from "../core/handler.ts";
import {
  CAPTURE,
  type CapturingErrorStream,
  consoleErrors,
  logError,
} from "../core/_errors.ts";
import { checkOptions, type OptionNames } from "../core/_options.ts";

/**
 * Options for {@linkcode testClient}: how the environ is filled
 * ({@linkcode WSGIOptions}), the connection the requests seem to come
 * over ({@linkcode ConnectionInfo}; `REMOTE_ADDR` is `"127.0.0.1"` unless
 * given), and whether the application's errors are thrown into the test
 * (`throwErrors`, the default) or answered with the 500 page.
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
  /**
   * Throw what the application throws (or a `validator()` check, or its
   * body while it is read) into the test: the request's promise rejects
   * with the error itself, as werkzeug's test client and Starlette's
   * (`raise_server_exceptions=True`) do, so that a failing app fails the
   * test even when the status is not asserted. `false` answers as a server
   * would: wsgiref's 500 page, the stack on `wsgi.errors`.
   * @default {true}
   */
  throwErrors?: boolean;
}

// Every TestClientOptions name (unknown ones are a TypeError, see
// _options.ts). Adding an option? List it here too: the compiler insists.
// remoteAddrHeader is being added to WSGIOptions on another branch.
const TEST_CLIENT_OPTION_NAMES: OptionNames<TestClientOptions> = {
  errors: true,
  allowUnderscoreHeaders: true,
  serverSoftware: true,
  maxBodySize: true,
  bufferInput: true,
  remoteAddrHeader: true,
  remoteAddr: true,
  remotePort: true,
  serverName: true,
  serverPort: true,
  scheme: true,
  protocol: true,
  baseUrl: true,
  throwErrors: true,
};

// The options that are the test client's own, not handleRequest's.
const OWN = new Set([
  "remoteAddr",
  "remotePort",
  "serverName",
  "serverPort",
  "scheme",
  "protocol",
  "baseUrl",
  "throwErrors",
]);

// fetch's RequestInit: a plain object with these names is a RequestInit.
const REQUEST_INIT_NAMES: OptionNames<RequestInit> = {
  body: true,
  cache: true,
  credentials: true,
  headers: true,
  integrity: true,
  keepalive: true,
  method: true,
  mode: true,
  priority: true,
  redirect: true,
  referrer: true,
  referrerPolicy: true,
  signal: true,
  window: true,
  duplex: true,
};

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
 * application's answer as a `Response`, and rejects with the application's
 * error when it throws (unless the client was made with `throwErrors:
 * false`: then that is a 500, with the stack on `wsgi.errors`).
 *
 * The methods with a body take it second, `post(target, body, init?)`, or
 * fetch's shape, `post(target, { body, headers })`: a plain object is never
 * a body, so it is read as a `RequestInit` (and refused with a TypeError
 * when it has other keys: send JSON as `JSON.stringify(value)`).
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
  /** Sends a POST request: `(target, body, init?)` or `(target, init)`. */
  post(
    target: TestTarget,
    body?: BodyInit | RequestInit | null,
    init?: RequestInit,
  ): Promise<Response>;
  /** Sends a PUT request: `(target, body, init?)` or `(target, init)`. */
  put(
    target: TestTarget,
    body?: BodyInit | RequestInit | null,
    init?: RequestInit,
  ): Promise<Response>;
  /** Sends a PATCH request: `(target, body, init?)` or `(target, init)`. */
  patch(
    target: TestTarget,
    body?: BodyInit | RequestInit | null,
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
  checkOptions(options, TEST_CLIENT_OPTION_NAMES, "testClient()");
  const base = new URL(options.baseUrl ?? "http://localhost/");
  const conn: ConnectionInfo = {
    remoteAddr: options.remoteAddr ?? "127.0.0.1",
    remotePort: options.remotePort,
    serverName: options.serverName,
    serverPort: options.serverPort,
    scheme: options.scheme,
    protocol: options.protocol,
  };
  const handlerOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!OWN.has(key)) handlerOptions[key] = value;
  }
  const throwErrors = options.throwErrors !== false;
  const errors = options.errors ?? consoleErrors;
  const request = async (
    target: TestTarget,
    init?: RequestInit,
  ): Promise<Response> => {
    if (init !== undefined) checkInit(init, "init");
    const req = toRequest(target, init, base);
    if (!throwErrors) {
      return await handleRequest(req, app, handlerOptions, conn);
    }
    // The first error the core would have logged before the response is
    // kept (not logged) and thrown here. One in a streamed body errors the
    // body's stream (the core does that itself), so reading it rejects; it
    // and any later one (a failing close()) are logged as usual.
    let caught: { error: unknown } | null = null;
    let answered = false;
    const capturing: CapturingErrorStream = {
      write: (s) => errors.write(s),
      writelines: (seq) => errors.writelines(seq),
      flush: () => errors.flush(),
      [CAPTURE]: (error) => {
        if (answered) logError(errors, error);
        else caught ??= { error };
      },
    };
    const response = await handleRequest(
      req,
      app,
      { ...handlerOptions, errors: capturing },
      conn,
    );
    answered = true;
    if (caught !== null) throw (caught as { error: unknown }).error;
    return response;
  };
  const withBody = (method: string) =>
  async (
    target: TestTarget,
    body?: BodyInit | RequestInit | null,
    init?: RequestInit,
  ): Promise<Response> => {
    if (!isPlainObject(body)) {
      const data = body as BodyInit | null | undefined;
      return await request(target, { ...init, method, body: data ?? null });
    }
    // fetch's shape, post(url, { body, headers }).
    const where = `${method.toLowerCase()}(target, init)`;
    checkInit(body, where);
    if (init !== undefined) {
      throw new TypeError(
        `${where}: the second argument is already a RequestInit; pass the body in it, or call ${method.toLowerCase()}(target, body, init)`,
      );
    }
    const asked = (body as RequestInit).method;
    if (asked !== undefined && asked.toUpperCase() !== method) {
      throw new TypeError(
        `${where}: method ${
          JSON.stringify(asked)
        } differs from ${method}; use request(target, { method: ${
          JSON.stringify(asked)
        } })`,
      );
    }
    return await request(target, { ...body as RequestInit, method });
  };
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

/** An object literal (or null-prototype object): never a fetch body. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Refuses a RequestInit with names fetch does not know (a typo, or JSON). */
function checkInit(init: unknown, where: string): void {
  if (!isPlainObject(init)) return;
  for (const name of Object.keys(init)) {
    if (Object.hasOwn(REQUEST_INIT_NAMES, name)) continue;
    throw new TypeError(
      `testClient ${where}: ${
        JSON.stringify(name)
      } is not a RequestInit key (body, headers, method, ...); a body goes in "body", and JSON as JSON.stringify(value) with a Content-Type header`,
    );
  }
}
