// A response body for WSGI with a close() that ends its source once:
// PEP 3333 has the server call close() exactly once, sent or abandoned.
import type { WSGIBody } from "../core/types.ts";

const encoder = new TextEncoder();
type Chunk = Uint8Array | string;

function bytesOf(chunk: Chunk): Uint8Array {
  if (typeof chunk === "string") return encoder.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(
    `a response body chunk must be a string or a Uint8Array, got ${typeof chunk}`,
  );
}

function isAsync(x: unknown): x is AsyncIterable<Chunk> {
  return x != null &&
    typeof (x as AsyncIterable<Chunk>)[Symbol.asyncIterator] === "function";
}

/**
 * `body` (null for none) as a WSGI body whose close() ends its iterator
 * (and `toClose`, a body never iterated, such as a HEAD answer's), calls
 * the source's own close(), then runs `callbacks`; all once.
 */
export function closingBody(
  body: Iterable<Chunk> | AsyncIterable<Chunk> | null,
  callbacks: (() => void)[],
  toClose: unknown = null,
): WSGIBody {
  let closed = false;
  let iterator: Iterator<Chunk> | AsyncIterator<Chunk> | null = null;
  const close = (): void | Promise<void> => {
    if (closed) return;
    closed = true;
    const ends: unknown[] = [];
    try {
      if (iterator?.return) ends.push(iterator.return());
      for (const source of [body, toClose]) {
        const c = (source as { close?: () => unknown } | null)?.close;
        if (typeof c === "function") ends.push(c.call(source));
        // A stream never iterated (HEAD): cancel it, freeing its source.
        if (source instanceof ReadableStream && !iterator) {
          ends.push(source.cancel().catch(() => {}));
        }
      }
    } finally {
      for (const callback of callbacks) callback();
    }
    const pending = ends.filter((e) => e instanceof Promise);
    if (pending.length) return Promise.all(pending).then(() => {});
  };
  if (body === null) return Object.assign([] as Uint8Array[], { close });
  if (Array.isArray(body) && body.every((c) => c instanceof Uint8Array)) {
    return Object.assign(body.slice() as Uint8Array[], { close });
  }
  if (isAsync(body)) {
    const source = body;
    return {
      [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
        const it = iterator = source[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await it.next();
            return r.done ? r : { done: false, value: bytesOf(r.value) };
          },
        };
      },
      close,
    } as AsyncIterable<Uint8Array> & { close(): void | Promise<void> };
  }
  const source = body as Iterable<Chunk>;
  return {
    [Symbol.iterator](): Iterator<Uint8Array> {
      const it = iterator = source[Symbol.iterator]();
      return {
        next: () => {
          const r = it.next();
          return r.done ? r : { done: false, value: bytesOf(r.value) };
        },
      };
    },
    close,
  } as Iterable<Uint8Array> & { close(): void | Promise<void> };
}
