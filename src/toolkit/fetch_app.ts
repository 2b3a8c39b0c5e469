/**
 * The fetch bridge's reverse: {@linkcode fromFetchHandler} serves any
 * `(Request) => Response` handler (a Hono app's `fetch`, itty, srvx...) as
 * a WSGI application.
 *
 * @module
 */
import type {
  AsyncInputStream,
  InputStream,
  WSGIApplication,
  WSGIBody,
} from "../core/types.ts";
import { type AnyEnvironment, WSGIRequest } from "./request.ts";
import { quotePath } from "./_native.ts";
import { phrase } from "./_status.ts";

/**
 * A fetch-style handler: a Web `Request` in, a `Response` (or a Promise of
 * one) out. A Hono app's `app.fetch` is one.
 *
 * @example Usage
 * ```ts
 * import type { FetchHandler } from "@wsgi/wsgi/toolkit";
 * const handler: FetchHandler = (request) =>
 *   new Response(`you asked for ${new URL(request.url).pathname}`);
 * ```
 */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Options for {@linkcode fromFetchHandler}.
 *
 * @example Usage
 * ```ts
 * import type { FromFetchHandlerOptions } from "@wsgi/wsgi/toolkit";
 * const options: FromFetchHandlerOptions = { fullPath: true };
 * ```
 */
export interface FromFetchHandlerOptions {
  /**
   * The Request's URL path is `SCRIPT_NAME` + `PATH_INFO` (the whole
   * path) instead of `PATH_INFO` alone. By default the handler sees the
   * path below its mount point, as a WSGI app does, so that a Hono app
   * with routes `/users/...` mounted under `/api` still matches.
   * @default {false}
   */
  fullPath?: boolean;
}

const CHUNK = 65536;

/**
 * A fetch handler served as a WSGI application, so that it can be mounted
 * under {@linkcode dispatcher}, wrapped by WSGI middleware, tested with
 * `testClient`. The Request is built from the environ: its URL from
 * `wsgi.url_scheme`, the `Host` and `PATH_INFO` (see
 * {@linkcode FromFetchHandlerOptions.fullPath}) and the query; headers
 * from `HTTP_*`, `CONTENT_TYPE` and `CONTENT_LENGTH`; the body streamed from
 * `wsgi.input` as the handler reads it (buffered or streaming input
 * alike). The Response's status and headers go to `start_response`
 * (`Set-Cookie` kept one per cookie); its body is streamed chunk by chunk,
 * never buffered, and `close()` cancels it when the client goes away.
 *
 * @example Usage
 * ```ts
 * import { testClient } from "@wsgi/wsgi";
 * import { fromFetchHandler } from "@wsgi/wsgi/toolkit";
 * import assert from "node:assert/strict";
 *
 * const app = fromFetchHandler(async (request) =>
 *   Response.json({ path: new URL(request.url).pathname, body: await request.text() })
 * );
 * const res = await testClient(app).post("/echo", { body: "hi" });
 * assert.deepEqual(await res.json(), { path: "/echo", body: "hi" });
 * ```
 *
 * @param handler The fetch handler.
 * @param options Which path the handler sees.
 * @returns The WSGI application.
 */
export function fromFetchHandler<
  I extends InputStream | AsyncInputStream = InputStream,
>(
  handler: FetchHandler,
  options: FromFetchHandlerOptions = {},
): WSGIApplication<I> {
  if (typeof handler !== "function") {
    throw new TypeError(
      `fromFetchHandler(): the handler is ${typeof handler}, not a function`,
    );
  }
  return async (environ, startResponse) => {
    const request = toRequest(environ, options);
    const response = await handler(request);
    if (!(response instanceof Response)) {
      throw new TypeError(
        `fromFetchHandler(): the handler returned ${typeof response}, not a Response`,
      );
    }
    const headers: [string, string][] = [];
    for (const [name, value] of response.headers) {
      if (name !== "set-cookie") headers.push([name, value]);
    }
    // Headers joins repeated fields with ", ", which would merge cookies
    // (RFC 6265 §3: Set-Cookie must not be folded); getSetCookie keeps
    // them apart.
    for (const cookie of response.headers.getSetCookie()) {
      headers.push(["set-cookie", cookie]);
    }
    const reason = response.statusText || phrase(response.status);
    startResponse(`${response.status} ${reason}`, headers);
    return bodyOf(response.body);
  };
}

function toRequest(
  environ: AnyEnvironment,
  options: FromFetchHandlerOptions,
): Request {
  const method = environ.REQUEST_METHOD;
  const headers = new Headers();
  const raw = environ as Record<string, unknown>;
  for (const key in raw) {
    const value = raw[key];
    if (typeof value !== "string" || !key.startsWith("HTTP_")) continue;
    try {
      headers.append(key.slice(5).replaceAll("_", "-"), value);
    } catch {
      // A value the Web platform refuses never reached a Web handler either.
    }
  }
  const path = (options.fullPath ? environ.SCRIPT_NAME ?? "" : "") +
    (environ.PATH_INFO || "/");
  // The Host header goes into a URL: one with "/", "?", "#", "@" or "\\"
  // would move the path the handler sees. WSGIRequest.host refuses those
  // ("" then); the server's own name stands in.
  let host = new WSGIRequest(environ).host;
  if (!host) {
    const name = environ.SERVER_NAME ?? "localhost";
    host = (name.includes(":") ? `[${name}]` : name) +
      (environ.SERVER_PORT ? `:${environ.SERVER_PORT}` : "");
  }
  const query = environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : "";
  // PATH_INFO is percent-decoded: encoded again, as wsgiref's request_uri.
  // A path starting "//" would read as a host: one slash is kept.
  const url = `${environ["wsgi.url_scheme"]}://${host}${
    quotePath(path.replace(/^\/+/, "/"))
  }${query}`;
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (method !== "GET" && method !== "HEAD") {
    // wsgiref fills CONTENT_TYPE with "text/plain" when absent; sent on
    // only where a body can be.
    if (environ.CONTENT_TYPE) headers.set("Content-Type", environ.CONTENT_TYPE);
    const length = environ.CONTENT_LENGTH;
    const known = /^\d+$/.test(length ?? "") ? Number(length) : null;
    if (known !== 0 && (known !== null || environ["wsgi.input_terminated"])) {
      init.body = inputStream(environ["wsgi.input"], known);
      init.duplex = "half"; // fetch's rule for a streamed request body
    }
  }
  return new Request(url, init);
}

// wsgi.input as a ReadableStream, read as the handler pulls, never past
// CONTENT_LENGTH (PEP 3333).
function inputStream(
  input: InputStream | AsyncInputStream,
  length: number | null,
): ReadableStream<Uint8Array> {
  let left = length ?? Infinity;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = left > 0 ? await input.read(Math.min(CHUNK, left)) : null;
      if (!chunk || chunk.length === 0) {
        controller.close();
        return;
      }
      left -= chunk.length;
      // A copy: the buffered input hands out views of one buffer.
      controller.enqueue(chunk.slice());
    },
  });
}

function bodyOf(stream: ReadableStream<Uint8Array> | null): WSGIBody {
  if (!stream) return [];
  const reader = stream.getReader();
  let done = false;
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      return {
        async next() {
          if (done) return { done: true, value: undefined };
          const r = await reader.read();
          if (r.done) done = true;
          return r.done
            ? { done: true, value: undefined }
            : { done: false, value: r.value };
        },
      };
    },
    // PEP 3333: the server calls close() once, sent or abandoned; a
    // stream still open is cancelled, which tells the handler's source.
    async close() {
      if (done) return;
      done = true;
      await reader.cancel().catch(() => {});
    },
  } as AsyncIterable<Uint8Array> & { close(): Promise<void> };
}
