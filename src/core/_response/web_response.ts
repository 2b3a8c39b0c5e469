// An outcome made a Web `Response`: for the fetch handler, and for the
// servers that take one (Deno.serve, Bun.serve). (Node's shim writes the
// outcome to its ServerResponse instead: runtime/_node/send.ts.)
import type { HeaderPair } from "../types.ts";
import type { Outcome } from "./outcome.ts";
import { serverError } from "./answers.ts";
import { hasHeader } from "./content_length.ts";
import { logError } from "../_errors.ts";
import { concat } from "../_bytes.ts";
import { decodeUtf8Strict } from "../_utf8.ts";

/**
 * How a server hands its Responses on: made once per listener or handler,
 * not per request.
 */
export interface ResponseMode {
  /**
   * The Response goes on the wire through the runtime's own server
   * (Deno.serve, Bun.serve, `deno serve`), where a HEAD response's body is
   * never sent and a body held whole gets its length from the runtime.
   */
  readonly onWire: boolean;
  /**
   * Short bodies known whole go to the runtime as the text they encode,
   * where that is cheaper (Deno: see asText).
   */
  readonly textBodies: boolean;
  /**
   * The Response keeps the app's reason phrase as its statusText. False
   * only for Deno.serve and Bun.serve, which put their own on the status
   * line and never send the statusText (checked with curl): an empty one
   * spares Deno validating it (0.1-0.3 µs a request). workerd sends it.
   */
  readonly statusText: boolean;
}

/** A Response handed to the caller (handleRequest), not to a server. */
export const OFF_WIRE: ResponseMode = Object.freeze({
  onWire: false,
  textBodies: false,
  statusText: true,
});

/** A Response the runtime's server sends (a fetch handler under it). */
export const ON_WIRE: ResponseMode = Object.freeze({
  onWire: true,
  textBodies: false,
  statusText: true,
});

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
 * application's close(). `onEnd` is told when the body has ended.
 */
export function toResponse(
  out: Outcome,
  isHead: boolean,
  mode: ResponseMode,
  onEnd: OnBodyEnd | null = null,
): Response {
  const onWire = mode.onWire;
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
  const init: ResponseInit = mode.statusText
    ? { status: out.code, statusText: out.reason, headers }
    : { status: out.code, headers };
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
    if (mode.textBodies && body.length <= TEXT_BODY_MAX) {
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
    const page = serverError(out.errors);
    return new Response(page.body[0] as Uint8Array<ArrayBuffer>, {
      status: page.code,
      statusText: page.reason,
      headers: page.headers,
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
