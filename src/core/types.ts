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
 * The bytes are `Uint8Array<ArrayBuffer>`, never a view of a
 * `SharedArrayBuffer`, so TypeScript (5.7 and later) takes them as a
 * `BodyInit` or `BufferSource` without a cast.
 *
 * @example Usage
 * ```ts
 * import type { WSGIEnvironment } from "@wsgi/wsgi";
 * function body(environ: WSGIEnvironment): Request {
 *   // Bytes backed by an ArrayBuffer: a BodyInit as they are.
 *   return new Request("http://localhost/", {
 *     method: "POST",
 *     body: environ["wsgi.input"].read(),
 *   });
 * }
 * ```
 */
export interface InputStream extends Iterable<Uint8Array<ArrayBuffer>> {
  /** Reads at most `size` bytes (all that is left when omitted or negative); empty at the end. */
  read(size?: number | null): Uint8Array<ArrayBuffer>;
  /** Reads one line, including its `\n`, or at most `size` bytes of it. */
  readline(size?: number | null): Uint8Array<ArrayBuffer>;
  /** Reads lines until their total length reaches `hint` (all lines when omitted). */
  readlines(hint?: number | null): Uint8Array<ArrayBuffer>[];
}

/**
 * `wsgi.input` when body buffering is turned off (`bufferInput: false`):
 * the same methods, each returning a Promise, and async iteration.
 *
 * @example Usage
 * ```ts
 * import type { AsyncInputStream, WSGIEnvironment } from "@wsgi/wsgi";
 * async function body(
 *   environ: WSGIEnvironment<AsyncInputStream>,
 * ): Promise<Uint8Array<ArrayBuffer>> {
 *   return await environ["wsgi.input"].read();
 * }
 * ```
 */
export interface AsyncInputStream
  extends AsyncIterable<Uint8Array<ArrayBuffer>> {
  /** Reads at most `size` bytes (all that is left when omitted or negative); empty at the end. */
  read(size?: number | null): Promise<Uint8Array<ArrayBuffer>>;
  /** Reads one line, including its `\n`, or at most `size` bytes of it. */
  readline(size?: number | null): Promise<Uint8Array<ArrayBuffer>>;
  /** Reads lines until their total length reaches `hint` (all lines when omitted). */
  readlines(hint?: number | null): Promise<Uint8Array<ArrayBuffer>[]>;
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
 * function factory(environ: WSGIEnvironment): FileWrapperFactory | undefined {
 *   return environ["wsgi.file_wrapper"];
 * }
 * ```
 */
export type FileWrapperFactory = (
  filelike: unknown,
  blksize?: number,
) => WSGIBody;

/**
 * The WSGI environ: CGI variables (native strings) and `wsgi.*` keys, typed
 * as PEP 3333 ("environ Variables") and wsgiref define them, so that an
 * application reads `environ.PATH_INFO` as a `string` and
 * `environ["wsgi.input"].read()` as bytes without a cast. Every other key
 * stays open (`unknown`): servers and middleware add their own.
 *
 * The keys every environ made here has are required: `makeEnviron` (every
 * server, `handleRequest`, `testClient`) and `runCgi` fill each one, with
 * `""` where PEP 3333 allows "empty or absent" (`SCRIPT_NAME`, `PATH_INFO`,
 * `QUERY_STRING`, `CONTENT_LENGTH`; `CONTENT_TYPE` is `"text/plain"` from
 * the servers, as in wsgiref). The keys that may be absent are optional:
 * `HTTP_*` (one per request header), `REMOTE_PORT`, `REMOTE_HOST`,
 * `HTTPS`, `wsgi.file_wrapper` (PEP 3333: apps check for it).
 *
 * `Input` is the type of `wsgi.input`: {@linkcode InputStream} by default;
 * an application served with `bufferInput: false` declares
 * `WSGIEnvironment<AsyncInputStream>` (or is a
 * `WSGIApplication<AsyncInputStream>`) and awaits its reads.
 *
 * @example Usage
 * ```ts
 * import type { WSGIEnvironment } from "@wsgi/wsgi";
 * function greet(environ: WSGIEnvironment): string {
 *   const name = new URLSearchParams(environ.QUERY_STRING).get("name");
 *   const body = environ["wsgi.input"].read();
 *   const agent = environ.HTTP_USER_AGENT ?? "someone";
 *   return `${environ.REQUEST_METHOD} ${environ.PATH_INFO}: hello ${name}, ` +
 *     `${agent} (${body.length} bytes)`;
 * }
 * ```
 */
export interface WSGIEnvironment<
  Input extends InputStream | AsyncInputStream = InputStream,
> {
  /** The method, such as `"GET"`. */
  REQUEST_METHOD: string;
  /** Where the application is mounted; `""` at the root. */
  SCRIPT_NAME: string;
  /** The rest of the path, percent-decoded to bytes shown as latin-1: `/caf%C3%A9` is `"/cafÃ©"` (see `decodeNative`). */
  PATH_INFO: string;
  /** The raw query, without `?`; `""` when there is none. */
  QUERY_STRING: string;
  /** The request's `Content-Type`; wsgiref's `"text/plain"` when absent (`""` under CGI). */
  CONTENT_TYPE: string;
  /** The body's length in decimal; `""` when unknown. */
  CONTENT_LENGTH: string;
  /** The server's host name. */
  SERVER_NAME: string;
  /** The server's port, as a string. */
  SERVER_PORT: string;
  /** Such as `"HTTP/1.1"`. */
  SERVER_PROTOCOL: string;
  /** The client's address; `""` when unknown. */
  REMOTE_ADDR: string;
  /** The client's port, when known. */
  REMOTE_PORT?: string;
  /** The client's host name (wsgiref leaves it `""`). */
  REMOTE_HOST?: string;
  /** `"CGI/1.1"`. */
  GATEWAY_INTERFACE?: string;
  /** Such as `"wsgi/0.1.0"`. */
  SERVER_SOFTWARE?: string;
  /** Set by CGI servers for TLS (`"on"`); see `guessScheme`. */
  HTTPS?: string;
  /** PEP 3333's `(1, 0)`. */
  "wsgi.version": readonly [1, 0];
  /** `"http"` or `"https"`. */
  "wsgi.url_scheme": string;
  /** The request body. */
  "wsgi.input": Input;
  /** Where errors go (stderr by default). */
  "wsgi.errors": ErrorStream;
  /** Whether other threads may run the application at once (never here). */
  "wsgi.multithread": boolean;
  /** Whether other processes may run it at once (true under CGI). */
  "wsgi.multiprocess": boolean;
  /** Whether this process serves one request only (true under CGI). */
  "wsgi.run_once": boolean;
  /** True: the body ends where `wsgi.input` ends (mod_wsgi's extension). */
  "wsgi.input_terminated"?: boolean;
  /** Turns a readable into the response body; optional in PEP 3333. */
  "wsgi.file_wrapper"?: FileWrapperFactory;
  /** The request headers, `User-Agent` as `HTTP_USER_AGENT`; absent when not sent. */
  [key: `HTTP_${string}`]: string | undefined;
  /** Any other key: servers and middleware add their own. */
  [key: string]: unknown;
}

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
 * iterable (or a Promise of one: async applications are allowed). `Input`
 * is the type of `wsgi.input` (see {@linkcode WSGIEnvironment}):
 * `WSGIApplication<AsyncInputStream>` for an application served with
 * `bufferInput: false`.
 *
 * @example Usage
 * ```ts
 * import type { WSGIApplication } from "@wsgi/wsgi";
 * const app: WSGIApplication = (environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [new TextEncoder().encode(`Hello from ${environ.PATH_INFO}`)];
 * };
 * ```
 */
export type WSGIApplication<
  Input extends InputStream | AsyncInputStream = InputStream,
> = (
  environ: WSGIEnvironment<Input>,
  startResponse: StartResponse,
) => WSGIBody | Promise<WSGIBody>;
