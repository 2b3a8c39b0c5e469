// `wsgi.input` (PEP 3333, "Input and Error Streams"). WSGI reads are
// synchronous, a Web body is an async stream, and JavaScript cannot block:
// so by default the body is read in full before the application is called
// (the PEP allows servers to pre-read), and reads here are synchronous. The
// PEP asks servers to simulate end-of-file past the body and to allow
// `read()` without a size: both hold here, unlike in wsgiref.
import type { AsyncInputStream, InputStream } from "./types.ts";

const EMPTY = new Uint8Array(0);

/**
 * `bytes` as a view of an `ArrayBuffer`, what reads hand out (types.ts):
 * the same object when it is one already (every runtime's request body
 * is), a copy only of a `SharedArrayBuffer` view. TypeScript 5.7+ types
 * `Uint8Array` over `ArrayBufferLike`, which `BodyInit` refuses.
 */
function owned(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof SharedArrayBuffer === "function" &&
      bytes.buffer instanceof SharedArrayBuffer
    ? bytes.slice()
    : bytes as Uint8Array<ArrayBuffer>;
}

function limitOf(size: number | null | undefined, left: number): number {
  return size == null || size < 0 || size > left ? left : size;
}

/** A synchronous `wsgi.input` over a body already in memory. */
export class BufferedInput implements InputStream {
  #data: Uint8Array<ArrayBuffer>;
  #pos = 0;

  constructor(data: Uint8Array) {
    this.#data = owned(data);
  }

  /** The body's total length in bytes. */
  get length(): number {
    return this.#data.length;
  }

  read(size?: number | null): Uint8Array<ArrayBuffer> {
    const n = limitOf(size, this.#data.length - this.#pos);
    const out = this.#data.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  readline(size?: number | null): Uint8Array<ArrayBuffer> {
    const end = this.#pos + limitOf(size, this.#data.length - this.#pos);
    const nl = this.#data.indexOf(10, this.#pos);
    const stop = nl === -1 || nl >= end ? end : nl + 1;
    const out = this.#data.subarray(this.#pos, stop);
    this.#pos = stop;
    return out;
  }

  readlines(hint?: number | null): Uint8Array<ArrayBuffer>[] {
    const lines: Uint8Array<ArrayBuffer>[] = [];
    let total = 0;
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint != null && hint > 0 && total >= hint) return lines;
    }
  }

  *[Symbol.iterator](): Iterator<Uint8Array<ArrayBuffer>> {
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}

/**
 * `wsgi.input` when buffering is off: reads pull from the request body
 * stream as the application awaits them, up to `limit` bytes.
 */
export class StreamingInput implements AsyncInputStream {
  #source: AsyncIterator<Uint8Array> | null;
  #buf: Uint8Array<ArrayBuffer> = EMPTY;
  #seen = 0;
  #limit: number;

  constructor(source: AsyncIterable<Uint8Array> | null, limit: number) {
    this.#source = source ? source[Symbol.asyncIterator]() : null;
    this.#limit = limit;
  }

  /** Pulls one more chunk into the buffer; false at the end of the body. */
  async #fill(): Promise<boolean> {
    if (!this.#source) return false;
    const r = await this.#source.next();
    if (r.done) {
      this.#source = null;
      return false;
    }
    const chunk = owned(r.value);
    this.#seen += chunk.length;
    if (this.#seen > this.#limit) {
      this.#source.return?.();
      this.#source = null;
      throw new RangeError(
        `Request body exceeds the limit of ${this.#limit} bytes (maxBodySize)`,
      );
    }
    if (this.#buf.length === 0) this.#buf = chunk;
    else {
      const joined = new Uint8Array(this.#buf.length + chunk.length);
      joined.set(this.#buf);
      joined.set(chunk, this.#buf.length);
      this.#buf = joined;
    }
    return true;
  }

  #take(n: number): Uint8Array<ArrayBuffer> {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async read(size?: number | null): Promise<Uint8Array<ArrayBuffer>> {
    const all = size == null || size < 0;
    while ((all || this.#buf.length < size) && await this.#fill());
    return this.#take(
      all ? this.#buf.length : Math.min(size, this.#buf.length),
    );
  }

  async readline(size?: number | null): Promise<Uint8Array<ArrayBuffer>> {
    const max = size == null || size < 0 ? Infinity : size;
    let scanned = 0;
    for (;;) {
      const nl = this.#buf.indexOf(10, scanned);
      if (nl !== -1 && nl < max) return this.#take(nl + 1);
      if (this.#buf.length >= max) return this.#take(max);
      scanned = this.#buf.length;
      if (!await this.#fill()) return this.#take(this.#buf.length);
    }
  }

  async readlines(hint?: number | null): Promise<Uint8Array<ArrayBuffer>[]> {
    const lines: Uint8Array<ArrayBuffer>[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint != null && hint > 0 && total >= hint) return lines;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array<ArrayBuffer>> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}
