/**
 * The types a WSGI user annotates, mirroring Python's `wsgiref.types`
 * (PEP 3333). A "native string" is a JavaScript string whose code units are
 * all 0x00–0xFF (bytes shown as ISO-8859-1); a "bytestring" is a
 * `Uint8Array`.
 *
 * @module
 */

/**
 * A response header as WSGI passes it: `[name, value]`, both native strings.
 *
 * @example Usage
 * ```ts
 * import type { HeaderPair } from "@wsgi/wsgi";
 * const header: HeaderPair = ["Content-Type", "text/plain"];
 * ```
 */
export type HeaderPair = [name: string, value: string];

/**
 * The `write(data)` callable that `startResponse` returns (PEP 3333,
 * "The write() Callable"): data passed to it goes out before the chunks of
 * the iterable the application returns.
 *
 * @example Usage
 * ```ts
 * import type { WriteFunction } from "@wsgi/wsgi";
 * const write: WriteFunction = (_data) => {};
 * write(new TextEncoder().encode("hello"));
 * ```
 */
export type WriteFunction = (data: Uint8Array) => void;

/**
 * `start_response(status, headers, exc_info=None)` (PEP 3333): `status` is
 * `"NNN Reason"`, `headers` a list of `[name, value]` pairs. Pass the caught
 * error as `excInfo` to replace the status and headers after an error (or to
 * rethrow it when the headers are already sent).
 *
 * @example Usage
 * ```ts
 * import type { StartResponse } from "@wsgi/wsgi";
 * function hello(startResponse: StartResponse): Uint8Array[] {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode("hi")];
 * }
 * ```
 */
export type StartResponse = (
  status: string,
  headers: HeaderPair[],
  excInfo?: unknown,
) => WriteFunction;

/**
 * `wsgi.input`, buffered (the default): synchronous file-like reads of the
 * request body, exactly as in Python (PEP 3333, "Input and Error Streams").
 *
 * @example Usage
 * ```ts
 * import type { InputStream, WSGIEnvironment } from "@wsgi/wsgi";
 * function body(environ: WSGIEnvironment): Uint8Array {
 *   return (environ["wsgi.input"] as InputStream).read();
 * }
 * ```
 */
export interface InputStream extends Iterable<Uint8Array> {
  /** Reads at most `size` bytes (all that is left when omitted or negative); empty at the end. */
  read(size?: number | null): Uint8Array;
  /** Reads one line, including its `\n`, or at most `size` bytes of it. */
  readline(size?: number | null): Uint8Array;
  /** Reads lines until their total length reaches `hint` (all lines when omitted). */
  readlines(hint?: number | null): Uint8Array[];
}

/**
 * `wsgi.input` when body buffering is turned off (`bufferInput: false`):
 * the same methods, each returning a Promise, and async iteration.
 *
 * @example Usage
 * ```ts
 * import type { AsyncInputStream, WSGIEnvironment } from "@wsgi/wsgi";
 * async function body(environ: WSGIEnvironment): Promise<Uint8Array> {
 *   return await (environ["wsgi.input"] as AsyncInputStream).read();
 * }
 * ```
 */
export interface AsyncInputStream extends AsyncIterable<Uint8Array> {
  /** Reads at most `size` bytes (all that is left when omitted or negative); empty at the end. */
  read(size?: number | null): Promise<Uint8Array>;
  /** Reads one line, including its `\n`, or at most `size` bytes of it. */
  readline(size?: number | null): Promise<Uint8Array>;
  /** Reads lines until their total length reaches `hint` (all lines when omitted). */
  readlines(hint?: number | null): Promise<Uint8Array[]>;
}

/**
 * `wsgi.errors`: a text stream for error output (PEP 3333).
 *
 * @example Usage
 * ```ts
 * import type { ErrorStream } from "@wsgi/wsgi";
 * const lines: string[] = [];
 * const errors: ErrorStream = {
 *   write: (s) => void lines.push(s),
 *   writelines: (seq) => void lines.push(...seq),
 *   flush: () => {},
 * };
 * errors.write("oops\n");
 * ```
 */
export interface ErrorStream {
  /** Writes a string. */
  write(s: string): void;
  /** Writes each string of a sequence. */
  writelines(seq: Iterable<string>): void;
  /** Flushes buffered output. */
  flush(): void;
}

/**
 * Something a file wrapper can read from: `read(size)` returning bytes (an
 * empty result at the end), and optionally `close()`.
 *
 * @example Usage
 * ```ts
 * import type { Readable } from "@wsgi/wsgi";
 * const empty: Readable = { read: () => new Uint8Array(0) };
 * ```
 */
export interface Readable {
  /** Reads up to `size` bytes; an empty array (or null) at the end. */
  read(
    size: number,
  ): Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;
  /** Releases the source. */
  close?(): void | Promise<void>;
}

/**
 * `wsgi.file_wrapper(filelike, blksize)`: turns a readable into the body
 * iterable (PEP 3333, "Optional Platform-Specific File Handling").
 *
 * @example Usage
 * ```ts
 * import type { FileWrapperFactory, WSGIEnvironment } from "@wsgi/wsgi";
 * function factory(environ: WSGIEnvironment): FileWrapperFactory {
 *   return environ["wsgi.file_wrapper"] as FileWrapperFactory;
 * }
 * ```
 */
export type FileWrapperFactory = (
  filelike: unknown,
  blksize?: number,
) => WSGIBody;

/**
 * The WSGI environ: CGI variables (native strings) and `wsgi.*` keys.
 *
 * @example Usage
 * ```ts
 * import type { WSGIEnvironment } from "@wsgi/wsgi";
 * const environ: WSGIEnvironment = { REQUEST_METHOD: "GET", PATH_INFO: "/" };
 * ```
 */
export type WSGIEnvironment = Record<string, unknown>;

/**
 * What an application returns: encoded chunks, synchronously or
 * asynchronously iterable. A `close()` method, when present, is called
 * exactly once when the response is over (PEP 3333).
 *
 * @example Usage
 * ```ts
 * import type { WSGIBody } from "@wsgi/wsgi";
 * const body: WSGIBody = [new TextEncoder().encode("hi")];
 * ```
 */
export type WSGIBody = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * A WSGI application: `app(environ, startResponse)` returning the body
 * iterable (or a Promise of one: async applications are allowed).
 *
 * @example Usage
 * ```ts
 * import type { WSGIApplication } from "@wsgi/wsgi";
 * const app: WSGIApplication = (_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode("Hello")];
 * };
 * ```
 */
export type WSGIApplication = (
  environ: WSGIEnvironment,
  startResponse: StartResponse,
) => WSGIBody | Promise<WSGIBody>;
