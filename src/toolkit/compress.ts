/**
 * The compression middleware: {@linkcode compress} encodes an app's
 * responses with brotli, gzip or deflate, as the client's Accept-Encoding
 * asks, streaming.
 *
 * @module
 */
import type {
  HeaderPair,
  StartResponse,
  WriteFunction,
  WSGIApplication,
  WSGIBody,
} from "../core/types.ts";
import { chooseEncoding, varyWithAcceptEncoding } from "./_accept_encoding.ts";
import { isCompressedType } from "./_mime.ts";
import { CODINGS, type Encoder, encoder } from "./_zlib_node.ts";

/**
 * Options of {@linkcode compress}.
 *
 * @example Usage
 * ```ts
 * import type { CompressOptions } from "@wsgi/wsgi/toolkit";
 * const options: CompressOptions = { threshold: 2048, encodings: ["gzip"] };
 * ```
 */
export interface CompressOptions {
  /**
   * Bodies whose Content-Length is below this many bytes are sent as
   * they are (a body without Content-Length is streamed, so compressed).
   * @default {1024}
   */
  threshold?: number;
  /**
   * The codings offered, preferred first when the client weighs them
   * alike: any of `"br"`, `"gzip"`, `"deflate"`.
   * @default {["br", "gzip", "deflate"]}
   */
  encodings?: readonly string[];
  /**
   * Whether a Content-Type is worth compressing.
   * @default {everything but images (SVG and BMP excepted), audio, video, woff/woff2 and archives}
   */
  compressible?: (contentType: string) => boolean;
}

function headerValue(headers: HeaderPair[], name: string): string | null {
  for (const [n, v] of headers) if (n.toLowerCase() === name) return v;
  return null;
}

/** What to do with one response, decided from its status and headers. */
interface Plan {
  /** The coding to encode with, or null to send the body as it is. */
  coding: string | null;
  headers: HeaderPair[];
}

/**
 * Wraps an app so that its responses are compressed for clients that
 * accept it (RFC 9110 §12.5.3, q-values honoured; `br`, then `gzip`, then
 * `deflate` on ties). Each chunk the app yields is encoded and flushed at
 * once, so a streamed response stays streamed; nothing is buffered.
 * Compressed responses lose `Content-Length` and `Accept-Ranges`, get
 * `Content-Encoding`, and their strong `ETag` becomes weak (the bytes
 * differ; RFC 9110 §8.8.1). Left alone: HEAD bodies (the headers are those
 * a GET gets), 1xx/204/206/304, responses with `Content-Range`,
 * `Content-Encoding` or `Cache-Control: no-transform`, types already
 * compressed, and bodies under the threshold. Every response that could
 * have been compressed carries `Vary: Accept-Encoding`, merged with the
 * app's. The app's `close()` runs exactly once.
 *
 * @example Compress a large text response
 * ```ts
 * import { compress } from "@wsgi/wsgi/toolkit";
 * import { testClient, type WSGIApplication } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const app: WSGIApplication = (_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode("hello ".repeat(1000))];
 * };
 * const response = await testClient(compress(app)).get("/", {
 *   headers: { "Accept-Encoding": "gzip" },
 * });
 * assert.equal(response.headers.get("content-encoding"), "gzip");
 * assert.equal(response.headers.get("vary"), "Accept-Encoding");
 * ```
 *
 * @param app The application whose responses to compress.
 * @param options Threshold, codings offered, which types.
 * @returns The wrapped application.
 */
export function compress(
  app: WSGIApplication,
  options: CompressOptions = {},
): WSGIApplication {
  const threshold = options.threshold ?? 1024;
  if (!(Number.isInteger(threshold) && threshold >= 0)) {
    throw new RangeError(
      `compress: threshold must be a whole number of bytes, got ${threshold}`,
    );
  }
  const offered = options.encodings ?? CODINGS;
  for (const coding of offered) {
    if (!CODINGS.includes(coding)) {
      throw new RangeError(
        `compress: unknown coding ${JSON.stringify(coding)}; use ${
          CODINGS.join(", ")
        }`,
      );
    }
  }
  const compressible = options.compressible ??
    ((type: string) => !isCompressedType(type));

  function plan(
    code: number,
    headers: HeaderPair[],
    accept: string | undefined,
  ): Plan {
    const keep = { coding: null, headers };
    // Nothing to encode: no content (RFC 9110 §15.3.5, §15.4.5), or a
    // part of the identity bytes (§14.4), which encoding would break.
    if (code < 200 || code === 204 || code === 206 || code === 304) {
      return keep;
    }
    if (headerValue(headers, "content-range") !== null) return keep;
    if (headerValue(headers, "content-encoding") !== null) return keep;
    // RFC 9111 §5.2.2.6: an intermediary must not change the content.
    const cache = headerValue(headers, "cache-control");
    if (cache !== null && /(^|,)\s*no-transform\s*(,|$)/i.test(cache)) {
      return keep;
    }
    const type = headerValue(headers, "content-type");
    if (type === null || !compressible(type)) return keep;
    const length = headerValue(headers, "content-length");
    if (length !== null && Number(length) < threshold) return keep;
    const coding = chooseEncoding(accept, offered);
    const out: HeaderPair[] = [];
    let vary: string | null = null;
    for (const pair of headers) {
      const name = pair[0].toLowerCase();
      if (name === "vary") {
        vary = vary === null ? pair[1] : `${vary}, ${pair[1]}`;
      } else if (coding === null) {
        out.push(pair);
      } else if (name === "etag") {
        out.push([
          pair[0],
          pair[1].startsWith("W/") ? pair[1] : `W/${pair[1]}`,
        ]);
      } else if (name !== "content-length" && name !== "accept-ranges") {
        out.push(pair);
      }
    }
    out.push(["Vary", varyWithAcceptEncoding(vary)]);
    if (coding !== null) out.push(["Content-Encoding", coding]);
    return { coding, headers: out };
  }

  return (environ, startResponse) => {
    const accept = environ.HTTP_ACCEPT_ENCODING as string | undefined;
    let chosen: Plan | null = null;
    let queued: Uint8Array[] = [];
    let write: WriteFunction | null = null;
    const start: StartResponse = (status, headers, excInfo) => {
      chosen = plan(Number.parseInt(status, 10), headers, accept);
      write = excInfo === undefined
        ? startResponse(status, chosen.headers)
        : startResponse(status, chosen.headers, excInfo);
      // write() data of an encoded response joins the body, in order.
      return (data) => {
        if ((chosen as Plan).coding === null) write!(data);
        else queued.push(data);
      };
    };
    const encodedBody = (body: WSGIBody): WSGIBody => {
      const plan = chosen as Plan | null;
      if (environ.REQUEST_METHOD === "HEAD") {
        if (plan?.coding && queued.length) queued = [];
        return body;
      }
      // startResponse may come at the first iteration (PEP 3333): then
      // the body is encoded or not as that call decides.
      if (plan !== null && plan.coding === null) return body;
      return new EncodedBody(body, () => chosen, () => {
        const q = queued;
        queued = [];
        return q;
      });
    };
    const result = app(environ, start);
    return result instanceof Promise
      ? result.then(encodedBody)
      : encodedBody(result);
  };
}

/** An app's body, encoded chunk by chunk; close() reaches the app's once. */
class EncodedBody implements AsyncIterable<Uint8Array> {
  #body: WSGIBody;
  #plan: () => Plan | null;
  #queued: () => Uint8Array[];
  #encoder: Encoder | null = null;
  #closed = false;

  constructor(
    body: WSGIBody,
    plan: () => Plan | null,
    queued: () => Uint8Array[],
  ) {
    this.#body = body;
    this.#plan = plan;
    this.#queued = queued;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const body = this.#body;
    const it = Symbol.asyncIterator in body
      ? (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (body as Iterable<Uint8Array>)[Symbol.iterator]();
    // Closed (the client left): pull nothing more from the app. An
    // encoder's output may be empty, so without this check the loop could
    // run the app's whole generator with no consumer.
    while (!this.#closed) {
      const step = await it.next();
      if (this.#closed) return;
      const plan = this.#plan();
      if (plan === null || plan.coding === null) {
        // Not encoded after all (startResponse came with the first chunk).
        if (step.done) return;
        yield step.value;
        continue;
      }
      if (this.#encoder === null) {
        const created = await encoder(plan.coding);
        if (this.#closed) {
          created.destroy();
          return;
        }
        this.#encoder = created;
      }
      for (
        const chunk of [...this.#queued(), ...(step.done ? [] : [step.value])]
      ) {
        if (chunk.length === 0) continue;
        yield* await this.#encoder.write(chunk);
      }
      if (step.done) {
        yield* await this.#encoder.end();
        return;
      }
    }
  }

  /** Closes the encoder and the app's iterable (PEP 3333), once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#encoder?.destroy();
    const close = (this.#body as { close?: () => unknown }).close;
    if (typeof close === "function") await close.call(this.#body);
  }
}
