// Serving one request, whatever carries it: reading the body, building the
// environ, running the application, and turning the outcome into a Web
// Response. The shims and the public handlers in handler.ts share it.
import type { HeaderPair, WSGIApplication } from "./types.ts";
import {
  type EnvironOptions,
  getHeader,
  makeEnviron,
  type RequestFacts,
} from "./environ.ts";
import { type Outcome, runApp } from "./_exchange.ts";
import { hasHeader } from "./_content_length.ts";
import { consoleErrors, logError } from "./_errors.ts";
import { BufferedInput, StreamingInput } from "./_input.ts";
import { type BodySource, iterate, readBody } from "./_body.ts";
import { concat } from "./_bytes.ts";
import { BodyTimeout, stallGuard } from "./_limits.ts";
import { decodeUtf8Strict } from "./_utf8.ts";
import type { LoggedFacts } from "./_log_format.ts";

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

/** The default `maxBodySize`: 10 MiB. */
export const MAX_BODY_SIZE: number = 10 * 1024 * 1024;

const TOO_LARGE = "Content Too Large";

/** Where a request's body size is noted for the metrics. */
type Measured = { received?: number };

/** A complete answer made by the server itself (413). */
export function plainOutcome(
  code: number,
  reason: string,
  text: string,
): Outcome {
  const body = new TextEncoder().encode(text);
  return {
    code,
    reason,
    headers: [["Content-Type", "text/plain; charset=utf-8"]],
    length: body.length,
    body: [body],
    more: null,
    errors: consoleErrors,
    refused: true,
  };
}

/** The 413 answer for a body over `limit` bytes. */
export function tooLarge(limit: number): Outcome {
  return plainOutcome(
    413,
    TOO_LARGE,
    `Request body is larger than the limit of ${limit} bytes\n`,
  );
}

/**
 * The 431 for a request head over `maxHeaderCount` or `maxHeaderSize`
 * (RFC 6585 §5), where the server, not the runtime, counted; the
 * connection closes, as Node and Bun do for their own 431.
 */
export function headersTooLarge(why: string): Outcome {
  const out = plainOutcome(
    431,
    "Request Header Fields Too Large",
    why + "\n",
  );
  out.close = true;
  return out;
}

/**
 * The 408 for a body that stalled (RFC 9110 §15.5.9): the connection then
 * closes, since the rest of the body may still come and cannot be told
 * from a next request.
 */
export function requestTimeout(): Outcome {
  const out = plainOutcome(
    408,
    "Request Timeout",
    "The request body stalled\n",
  );
  out.close = true;
  return out;
}

// The `wsgi.input` of every request without a body: reading it moves no
// position, and frozen, no request can leave anything on it for the next.
const NO_INPUT = new BufferedInput(new Uint8Array(0));
Object.freeze(NO_INPUT);

/**
 * Runs an application for one request described by `facts`, reading the
 * body from `source`; the part every server shares. Never rejects, and
 * answers synchronously when it can: a request without a body to an app
 * that answers at once costs no Promise.
 */
export function serveFacts(
  app: WSGIApplication,
  facts: RequestFacts,
  source: BodySource | null,
  options: WSGIOptions & { bodyTimeout?: number },
): Outcome | Promise<Outcome> {
  const limit = options.maxBodySize ?? MAX_BODY_SIZE;
  // makeServer's bodyTimeout: a body that stalls gets 408 (see _limits.ts).
  const stall = options.bodyTimeout ?? 0;
  if (source !== null && stall > 0) source = stallGuard(source, stall);
  // Without a body, no header need be read (see makeEnviron).
  const declared = source === null
    ? null
    : getHeader(facts.headers, "content-length");
  // Content-Length sent twice (Deno and Bun hand over "5, 5"; Node's parser
  // refuses it): RFC 9110 §8.6 lets a recipient either reject such a list or
  // reduce identical values to one. Rejected, as RFC 9112 §6.3 asks for an
  // invalid Content-Length, so that every runtime answers alike (400).
  if (declared !== null && declared.includes(",")) {
    return plainOutcome(
      400,
      "Bad Request",
      `Content-Length must be one number, not ${JSON.stringify(declared)}\n`,
    );
  }
  // The metrics' request bytes (see ServerMetrics): the declared length;
  // a chunked body's is known once read (readAndRun).
  if (declared !== null) (facts as Measured).received = Number(declared) || 0;
  // RFC 9110 §15.5.14: refuse before reading when the length is declared.
  if (declared !== null && Number(declared) > limit) return tooLarge(limit);
  if (options.bufferInput === false) {
    const input = new StreamingInput(iterate(source), limit);
    return run(app, facts, input, options, false);
  }
  if (source === null) {
    return run(app, facts, NO_INPUT, options, false);
  }
  return readAndRun(app, facts, source, options, limit, declared === null);
}

async function readAndRun(
  app: WSGIApplication,
  facts: RequestFacts,
  source: BodySource,
  options: WSGIOptions,
  limit: number,
  chunked: boolean,
): Promise<Outcome> {
  let data: Uint8Array | null;
  try {
    data = await readBody(source, limit);
  } catch (error) {
    if (error instanceof BodyTimeout) return requestTimeout();
    // The client went away or sent a malformed body mid-way.
    logError(options.errors ?? consoleErrors, error);
    return plainOutcome(400, "Bad Request", "Malformed request body\n");
  }
  if (data === null) return tooLarge(limit);
  if (chunked) (facts as Measured).received = data.length;
  return await run(app, facts, new BufferedInput(data), options, chunked);
}

function run(
  app: WSGIApplication,
  facts: RequestFacts,
  input: BufferedInput | StreamingInput,
  options: WSGIOptions,
  chunked: boolean,
): Outcome | Promise<Outcome> {
  const environ = makeEnviron(facts, input, options);
  // A server's facts keep the environ for the access log, and when the app
  // was called if asked (see LoggedFacts); other callers' facts have no
  // such field.
  const logged = facts as LoggedFacts;
  if (logged.environ === null) {
    logged.environ = environ;
    if (logged.ran === -1) logged.ran = performance.now();
  }
  if (chunked && (input as BufferedInput).length > 0) {
    // A chunked body was read in full: its length is now known, and apps
    // that trust CONTENT_LENGTH (most do) can read it. An empty one stays
    // "", as wsgiref leaves it: Deno gives a body stream to every request
    // whose method may have one (POST, PURGE...), even with neither
    // Content-Length nor Transfer-Encoding.
    environ.CONTENT_LENGTH = String((input as BufferedInput).length);
  }
  return runApp(
    app,
    environ,
    options.errors ?? consoleErrors,
    facts.method === "HEAD",
  );
}

// Statuses whose responses never carry a body (Fetch "null body status").
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

let streamsFail: Error | null | undefined;

/**
 * Null when `new ReadableStream(...)` works here, else the error to log.
 * It fails in workerd (Cloudflare Workers) before compatibility date
 * 2022-11-30, where it needs the `streams_enable_constructors` flag; left
 * to throw, the handler's Promise would reject and workerd answer a 500 of
 * its own.
 */
function streamsFailure(): Error | null {
  if (streamsFail !== undefined) return streamsFail;
  try {
    new ReadableStream();
    streamsFail = null;
  } catch (error) {
    streamsFail = new Error(
      "Cannot stream the response: the ReadableStream constructor failed " +
        `(${String(error)}). On Cloudflare Workers (workerd), set ` +
        'compatibility_date to "2022-11-30" or later, or add the ' +
        '"streams_enable_constructors" compatibility flag',
      { cause: error },
    );
  }
  return streamsFail;
}

const ERROR_TEXT =
  "A server error occurred.  Please contact the administrator.";

/** A body for a HEAD response on the wire, which the runtime never sends. */
function unsentBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array(1));
      c.close();
    },
  });
}

/** The largest body {@linkcode toResponse} hands on as text. */
const TEXT_BODY_MAX = 1024;

/**
 * A short body as the string whose UTF-8 encoding it is, or null. Deno
 * copies a `Uint8Array` body into a fresh buffer for every response
 * (measured: 1–2 µs a request, more than all of WSGI's own work), and
 * encodes a string straight onto the wire: the same bytes. Only with a
 * Content-Type from the app: for a string, the Fetch standard would add
 * `text/plain;charset=UTF-8` itself.
 */
function asText(body: Uint8Array, headers: HeaderPair[]): string | null {
  if (!hasHeader(headers, "content-type")) return null;
  return decodeUtf8Strict(body);
}

/**
 * Called once when a response body has ended: the bytes handed on, and
 * whether it ended well (false: failed or cancelled by the client).
 */
export type OnBodyEnd = (bytes: number, ok: boolean) => void;

/**
 * Makes a Web `Response` from an outcome. A streamed body is a pull-based
 * stream with no read-ahead: each chunk is asked of the application only
 * when the runtime wants one (PEP 3333 forbids delaying a block, and this
 * keeps backpressure), and cancelling it (the client went away) runs the
 * application's close(). `onWire` is for a server's own handler (Deno.serve,
 * Bun.serve), where a HEAD response's body is never sent.
 */
export function toResponse(
  out: Outcome,
  isHead: boolean,
  onEnd?: OnBodyEnd | null,
  onWire = false,
  textBodies = false,
): Response {
  const more = out.more;
  const direct = out.direct;
  const nullBody = NULL_BODY.has(out.code);
  // The header list goes in as pairs, not a Headers object: repeats such
  // as Set-Cookie stay separate lines, and nothing is sorted or copied.
  let headers: HeaderPair[] = out.headers;
  if (
    out.length !== null &&
    // On the wire, a body held whole gets its Content-Length from the
    // runtime, the same number; leaving ours out keeps Deno on its fast
    // path for a 200 whose only header is Content-Type.
    !(onWire && !isHead && !nullBody && more === null && direct === undefined)
  ) headers = [...headers, ["Content-Length", String(out.length)]];
  if (out.close) headers = [...headers, ["Connection", "close"]];
  const init = { status: out.code, statusText: out.reason, headers };
  if (direct !== undefined && !isHead && !nullBody) {
    const response = new Response(direct.source, init);
    // A stream now belongs to the Response, which cancels it if the client
    // goes away: closing the wrapper here would cancel it before it is read.
    if (direct.source instanceof Blob) void direct.close();
    onEnd?.(direct.source instanceof Blob ? direct.source.size : 0, true);
    return response;
  }
  if (more === null || isHead || nullBody) {
    if (more !== null) more.close();
    const bodyless = isHead || nullBody || out.body.length === 0;
    let bytes = 0;
    for (const c of out.body) bytes += c.length;
    onEnd?.(bodyless ? 0 : bytes, true);
    if (
      onWire && isHead && !nullBody &&
      !hasHeader(headers, "content-length") && streamsFailure() === null
    ) {
      // HEAD of a streamed body, whose length GET does not know either:
      // given a null body, Deno and Bun announce "content-length: 0",
      // which is false (RFC 9110 §8.6, §9.3.2). A body they never send
      // for HEAD makes Deno leave the length out and Bun say chunked.
      return new Response(unsentBody(), init);
    }
    if (bodyless) return new Response(null, init);
    const body = concat(out.body) as Uint8Array<ArrayBuffer>;
    if (textBodies && body.length <= TEXT_BODY_MAX) {
      const text = asText(body, headers);
      if (text !== null) return new Response(text, init);
    }
    return new Response(body, init);
  }
  const cannot = streamsFailure();
  if (cannot !== null) {
    // The application's status goes with its body: wsgiref's 500 page
    // instead, the reason in wsgi.errors, and the iterable closed.
    logError(out.errors, cannot);
    onEnd?.(0, false);
    const closing = more.close();
    if (closing instanceof Promise) closing.catch(() => {});
    return new Response(ERROR_TEXT, {
      status: 500,
      statusText: "Internal Server Error",
      headers: [["Content-Type", "text/plain"]],
    });
  }
  let bytes = 0;
  let ended = false;
  const finish = (ok: boolean): void => {
    if (ended) return;
    ended = true;
    onEnd?.(bytes, ok);
  };
  const deliver = (
    c: ReadableStreamDefaultController<Uint8Array>,
    chunk: Uint8Array | null,
  ): void | Promise<void> => {
    if (chunk === null) {
      // finish first: Bun's shim re-arms its idle timer there, which Bun
      // ignores once the body has closed (measured).
      finish(true);
      c.close();
      return more.close();
    }
    bytes += chunk.length;
    c.enqueue(chunk);
  };
  const fail = async (
    c: ReadableStreamDefaultController<Uint8Array>,
    error: unknown,
  ): Promise<void> => {
    // After the head, a failure can only cut the response short: erroring
    // the stream makes the runtime close the connection without the
    // chunked terminator (or short of the Content-Length), so the client
    // sees an incomplete response, never a complete one (RFC 9112 §8).
    logError(out.errors, error);
    finish(false);
    await more.close();
    // One macrotask first: Bun, erroring a stream whose head it has not yet
    // written, resets the connection and drops the chunks already given to
    // it (measured); by then they are on the wire, as on Deno.
    await new Promise((resolve) => setTimeout(resolve, 0));
    c.error(error);
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of out.body) {
        bytes += chunk.length;
        c.enqueue(chunk);
      }
    },
    pull(c) {
      try {
        const chunk = more.next();
        if (chunk instanceof Promise) {
          return chunk.then((v) => deliver(c, v), (e) => fail(c, e));
        }
        return deliver(c, chunk);
      } catch (error) {
        return fail(c, error);
      }
    },
    cancel() {
      finish(false);
      return more.close();
    },
  }, { highWaterMark: 0 });
  return new Response(stream, init);
}
