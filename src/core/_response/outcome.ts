// What the application answered, as each server sends it (a Web Response,
// or Node's ServerResponse): the status, headers and known body chunks, and
// the pumps that pull the rest.
import type { ErrorStream, HeaderPair } from "../types.ts";

/** Pulls the rest of a streamed body: a chunk, or null at the end. */
export interface Pump {
  next(): Uint8Array | null | Promise<Uint8Array | null>;
  /** Ends the body early or late; runs the app's close() exactly once. */
  close(): void | Promise<void>;
}

/** What the application answered, ready for the wire. */
export interface Outcome {
  code: number;
  reason: string;
  headers: HeaderPair[];
  /**
   * The `Content-Length` the server adds, not yet in `headers`: the exact
   * length of a body known whole (PEP 3333 lets a server set it for a
   * one-element body), or null (unknown, or the app set its own).
   */
  length: number | null;
  /** The body chunks known now: the whole body when `more` is null. */
  body: Uint8Array[];
  /** The rest of a streamed body. */
  more: Pump | null;
  /** The environ's error stream, for failures while streaming. */
  errors: ErrorStream;
  /** Close the connection after this response (a 408 mid-body, a drain). */
  close?: boolean;
  /** The server made this answer itself (the metrics' refusals). */
  refused?: boolean;
  /**
   * A body the runtime can send as it is: the source of a FileWrapper that
   * is a `Blob` (`Bun.file()`, Node's `fs.openAsBlob()`) or a stream (a Deno
   * file's `readable`). `more` pulls the same bytes for servers that copy.
   */
  direct?: DirectBody;
}

/** A file body handed to the runtime whole (PEP 3333's "sendfile" hook). */
export interface DirectBody {
  source: Blob | ReadableStream<Uint8Array>;
  /** Closes the FileWrapper (PEP 3333: exactly once). */
  close(): void | Promise<void>;
}

/** Pulls a direct body chunk by chunk, for servers that write each chunk. */
export function readerPump(direct: DirectBody): Pump {
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let closed = false;
  return {
    async next() {
      const src = direct.source;
      reader ??= (src instanceof Blob ? src.stream() : src).getReader();
      const { done, value } = await reader.read();
      return done ? null : value;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (reader) await reader.cancel().catch(() => {});
      await direct.close();
    },
  };
}

/** A pump that fails at once: the app failed after output was committed. */
export function failing(error: unknown): Pump {
  return {
    next: () => {
      throw error;
    },
    close: () => {},
  };
}
