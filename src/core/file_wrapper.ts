/**
 * `wsgi.file_wrapper` (PEP 3333, "Optional Platform-Specific File
 * Handling") and wsgiref's `util.FileWrapper`.
 *
 * @module
 */
import type { Readable, WSGIBody } from "./types.ts";

const EMPTY = new Uint8Array(0);

function toBytes(value: unknown): Uint8Array {
  if (value == null) return EMPTY;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(
    `FileWrapper: read() returned ${typeof value}, expected a Uint8Array`,
  );
}

/**
 * Turns a file-like source into the body iterable, `blksize` bytes at a
 * time, and forwards `close()` to it. Sources: a `Blob` (so `Bun.file()`
 * too), a `ReadableStream<Uint8Array>`, or any object with `read(size)`
 * (a Deno or Node file handle wrapped that way, an in-memory reader).
 *
 * @example Usage
 * ```ts
 * import { FileWrapper } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const blob = new Blob(["hello world"]);
 * const chunks: Uint8Array[] = [];
 * for await (const chunk of new FileWrapper(blob, 4)) chunks.push(chunk);
 * assert.equal(chunks.length, 3);
 * ```
 */
export class FileWrapper implements AsyncIterable<Uint8Array> {
  /** The wrapped source, as given. */
  readonly filelike: unknown;
  /** The block size. */
  readonly blksize: number;
  #closed = false;

  /**
   * Wraps a source.
   *
   * @param filelike A `Blob`, a `ReadableStream`, or an object with `read(size)`.
   * @param blksize Bytes per chunk. @default {8192}
   */
  constructor(filelike: unknown, blksize: number = 8192) {
    if (!(Number.isInteger(blksize) && blksize > 0)) {
      throw new RangeError(
        `FileWrapper: blksize must be a positive integer, got ${blksize}`,
      );
    }
    const ok = filelike instanceof Blob ||
      filelike instanceof ReadableStream ||
      (typeof filelike === "object" && filelike !== null &&
        typeof (filelike as Readable).read === "function");
    if (!ok) {
      throw new TypeError(
        `FileWrapper: expected a Blob, a ReadableStream or an object with read(size), got ${
          filelike === null ? "null" : typeof filelike
        }`,
      );
    }
    this.filelike = filelike;
    this.blksize = blksize;
  }

  /** The chunks, `blksize` bytes each (the last may be shorter). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const src = this.filelike;
    const size = this.blksize;
    if (src instanceof Blob) {
      for (let pos = 0; pos < src.size && !this.#closed; pos += size) {
        yield new Uint8Array(await src.slice(pos, pos + size).arrayBuffer());
      }
      return;
    }
    if (src instanceof ReadableStream) {
      const reader = src.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || this.#closed) return;
          for (let pos = 0; pos < value.length; pos += size) {
            yield value.subarray(pos, pos + size);
          }
        }
      } finally {
        reader.releaseLock();
      }
    }
    const readable = src as Readable;
    for (;;) {
      const chunk = toBytes(await readable.read(size));
      if (chunk.length === 0 || this.#closed) return;
      yield chunk;
    }
  }

  /** Closes the source (its `close()`, or cancels a stream); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const src = this.filelike;
    if (src instanceof ReadableStream) {
      if (!src.locked) await src.cancel();
    } else if (
      !(src instanceof Blob) &&
      typeof (src as Readable).close === "function"
    ) {
      await (src as Readable).close!();
    }
  }
}

/**
 * The `wsgi.file_wrapper` callable: `environ["wsgi.file_wrapper"](file,
 * blksize)` returns a {@linkcode FileWrapper}.
 *
 * @example Usage
 * ```ts
 * import { fileWrapper } from "@wsgi/wsgi";
 * const body = fileWrapper(new Blob(["data"]));
 * ```
 *
 * @param filelike A `Blob`, a `ReadableStream`, or an object with `read(size)`.
 * @param blksize Bytes per chunk. @default {8192}
 * @returns The body iterable.
 */
export function fileWrapper(filelike: unknown, blksize?: number): WSGIBody {
  return new FileWrapper(filelike, blksize);
}
