// Reading the request body before the application runs (the default): the
// PEP allows a server to pre-read, and it is the only way to give WSGI's
// synchronous `wsgi.input` over an asynchronous Web body.
import { concat } from "./_bytes.ts";

/** A body source: a Web stream or any async iterable (Node's IncomingMessage). */
export type BodySource =
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

const EMPTY = new Uint8Array(0);

/**
 * Reads a whole body, or returns null as soon as it exceeds `limit` bytes
 * (the rest is not read: the caller answers 413).
 */
export async function readBody(
  source: BodySource | null,
  limit: number,
): Promise<Uint8Array | null> {
  if (source === null) return EMPTY;
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (source instanceof ReadableStream) {
    const reader = source.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } else {
    for await (const value of source) {
      total += value.length;
      if (total > limit) return null;
      chunks.push(value);
    }
  }
  return total === 0 ? EMPTY : concat(chunks);
}

/** An async iterable over a body source, for streaming `wsgi.input`. */
export function iterate(
  source: BodySource | null,
): AsyncIterable<Uint8Array> | null {
  if (source === null || !(source instanceof ReadableStream)) return source;
  return {
    async *[Symbol.asyncIterator]() {
      const reader = source.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
  };
}
