// Calling the application and collecting what it answers, independent of
// how the answer reaches the wire (a Web Response, or Node's ServerResponse).
import type {
  ErrorStream,
  HeaderPair,
  WSGIApplication,
  WSGIEnvironment,
} from "./types.ts";
import { ResponseState } from "./_response_state.ts";
import { logError } from "./_errors.ts";
import { FileWrapper } from "./file_wrapper.ts";
import { BodyTimeout } from "./_limits.ts";

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
  /** Close the connection after this response (a 408 mid-body). */
  close?: boolean;
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
function readerPump(direct: DirectBody): Pump {
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

const q = JSON.stringify;

// PEP 3333 bodies are bytestrings; the tutorial's `.encode("utf-8")` is
// `new TextEncoder().encode(...)` here.
function badChunk(value: unknown): TypeError {
  const what = typeof value === "string"
    ? `the string ${q(value.length > 40 ? value.slice(0, 40) + "…" : value)}`
    : value === null
    ? "null"
    : typeof value;
  return new TypeError(
    `The application's body yielded ${what}; each chunk must be a Uint8Array (encode text with new TextEncoder().encode(...))`,
  );
}

function badResult(value: unknown): TypeError {
  let what: string;
  if (typeof value === "string") {
    what = "a string";
  } else if (value instanceof Uint8Array) {
    what = `a bare Uint8Array of ${value.length} bytes`;
  } else if (value === null || value === undefined) what = String(value);
  else if (typeof value === "object") {
    // Name what it is: its class, or the keys of a plain object.
    const name = (value as { constructor?: { name?: unknown } }).constructor
      ?.name;
    const keys = Object.keys(value).slice(0, 5);
    what = typeof name === "string" && name !== "" && name !== "Object"
      ? `a non-iterable ${name} object`
      : `a non-iterable object {${keys.join(", ")}}`;
  } else what = typeof value;
  return new TypeError(
    `The application returned ${what}; it must return a list of encoded chunks, such as [new TextEncoder().encode("Hello")]`,
  );
}

/**
 * Calls the `close()` of a result that cannot be iterated: PEP 3333 asks
 * for it whatever the result, as wsgiref and gunicorn do (the app may have
 * opened a file or a transaction for it).
 */
function closeResult(result: unknown, errors: ErrorStream): void {
  if (typeof result !== "object" && typeof result !== "function") return;
  if (result === null) return;
  try {
    const close = (result as { close?: unknown }).close;
    if (typeof close !== "function") return;
    const r: unknown = close.call(result);
    if (r instanceof Promise) r.catch((e) => logError(errors, e));
  } catch (e) {
    logError(errors, e);
  }
}

/** The application's body iterable, with PEP 3333's close() guarantee. */
class AppBody implements Pump {
  #result: unknown;
  #array: readonly unknown[] | null = null;
  #index = 0;
  #iter: Iterator<unknown> | null = null;
  #asyncIter: AsyncIterator<unknown> | null = null;
  #state: ResponseState;
  #errors: ErrorStream;
  #done = false;
  #closed = false;

  constructor(result: unknown, state: ResponseState, errors: ErrorStream) {
    this.#state = state;
    this.#errors = errors;
    this.#result = result;
    if (Array.isArray(result)) {
      this.#array = result;
      return;
    }
    if (
      typeof result !== "object" || result === null ||
      result instanceof Uint8Array
    ) {
      this.#closed = true;
      state.ended = errors;
      closeResult(result, errors);
      throw badResult(result);
    }
    const r = result as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
    if (typeof r[Symbol.asyncIterator] === "function") {
      this.#asyncIter = r[Symbol.asyncIterator]!();
    } else if (typeof r[Symbol.iterator] === "function") {
      this.#iter = r[Symbol.iterator]!();
    } else {
      this.#closed = true;
      state.ended = errors;
      closeResult(result, errors);
      throw badResult(result);
    }
  }

  /** True for a one-element list: PEP 3333 lets the server set its length. */
  get single(): boolean {
    return this.#array !== null && this.#array.length === 1;
  }

  /** True when nothing is left: the list is spent and write() queued nothing. */
  get spent(): boolean {
    return this.#array !== null && this.#index >= this.#array.length &&
      this.#state.pending.length === 0;
  }

  #take(value: unknown): Uint8Array | null {
    if (!(value instanceof Uint8Array)) throw badChunk(value);
    if (value.length === 0) return null;
    const pending = this.#state.pending;
    this.#state.committed = true;
    // Data given to write() during this step goes out first (PEP 3333).
    if (pending.length === 0) return value;
    pending.push(value);
    return pending.shift()!;
  }

  next(): Uint8Array | null | Promise<Uint8Array | null> {
    const pending = this.#state.pending;
    for (;;) {
      if (pending.length > 0) return pending.shift()!;
      if (this.#done) return null;
      let value: unknown;
      if (this.#array !== null) {
        if (this.#index >= this.#array.length) {
          this.#done = true;
          continue;
        }
        value = this.#array[this.#index++];
      } else if (this.#iter !== null) {
        const r = this.#iter.next();
        if (r.done) {
          this.#done = true;
          continue;
        }
        value = r.value;
      } else return this.#nextAsync();
      const chunk = this.#take(value);
      if (chunk !== null) return chunk;
    }
  }

  async #nextAsync(): Promise<Uint8Array | null> {
    const pending = this.#state.pending;
    for (;;) {
      if (pending.length > 0) return pending.shift()!;
      if (this.#done) return null;
      const r = await this.#asyncIter!.next();
      if (r.done) {
        this.#done = true;
        continue;
      }
      const chunk = this.#take(r.value);
      if (chunk !== null) return chunk;
    }
  }

  close(): void | Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // From now on write() has nowhere to go.
    this.#state.ended = this.#errors;
    try {
      const close = (this.#result as { close?: unknown }).close;
      let r: unknown;
      if (typeof close === "function") r = close.call(this.#result);
      else if (!this.#done) {
        r = (this.#iter ?? this.#asyncIter)?.return?.();
      }
      if (r instanceof Promise) {
        return r.then(() => {}, (e) => logError(this.#errors, e));
      }
    } catch (e) {
      logError(this.#errors, e);
    }
  }
}

const ERROR_BODY = new TextEncoder().encode(
  "A server error occurred.  Please contact the administrator.",
);

/** wsgiref's error page (`BaseHandler.error_output`): 59 bytes of text. */
function errorOutcome(errors: ErrorStream): Outcome {
  return {
    code: 500,
    reason: "Internal Server Error",
    headers: [["Content-Type", "text/plain"]],
    length: ERROR_BODY.length,
    body: [ERROR_BODY],
    more: null,
    errors,
  };
}

/** True when a header list has `lowerName` (compared case-insensitively). */
export function hasHeader(
  headers: readonly HeaderPair[],
  lowerName: string,
): boolean {
  for (const [name] of headers) {
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
      return true;
    }
  }
  return false;
}

/**
 * The `Content-Length` to add for a body of `length` bytes: none when the
 * app set its own, and none on 204 and 304 (RFC 9110 §8.6: forbidden on a
 * 204; on a 304 it must be the length a 200 would have had, which this
 * body does not tell). wsgiref sends one on both.
 */
function lengthFor(
  code: number,
  headers: HeaderPair[],
  length: number,
): number | null {
  return code === 204 || code === 304 || hasHeader(headers, "content-length")
    ? null
    : length;
}

/**
 * The `Content-Length` the application declared: -1 when it set none (or
 * one that is not a plain decimal number, which is passed on untouched).
 */
function declaredLength(headers: readonly HeaderPair[]): number {
  for (const [name, value] of headers) {
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      return /^\d{1,15}$/.test(value) ? Number(value) : -1;
    }
  }
  return -1;
}

/**
 * Holds a body to the `Content-Length` the application declared, as
 * waitress does. RFC 9112 §6.3: the length frames the message, so bytes
 * beyond it would be read as the start of the next response (a desync:
 * Node sent them): they are cut, with a warning. RFC 9112 §8: a body that
 * ends short is an incomplete message, which the client can only tell if
 * the connection closes: the body then fails at its end, and each server
 * cuts the connection (Deno and Bun otherwise rewrite the length or send
 * the body chunked and complete; Node left the client waiting).
 */
function fitLength(out: Outcome): Outcome {
  const declared = out.code === 204 || out.code === 304
    ? -1
    : declaredLength(out.headers);
  if (declared === -1) return out;
  let sent = 0;
  let over = false;
  const body: Uint8Array[] = [];
  for (const chunk of out.body) {
    if (sent + chunk.length > declared) {
      over = true;
      if (declared > sent) body.push(chunk.subarray(0, declared - sent));
      sent = declared;
      break;
    }
    body.push(chunk);
    sent += chunk.length;
  }
  out.body = body;
  if (over) tooLong(out.errors, declared);
  const inner = out.more;
  if (inner === null) {
    if (sent < declared) out.more = failing(tooShort(declared, sent));
    return out;
  }
  if (over || sent === declared) {
    // Nothing more may go out: the app's close() runs when the server
    // closes this pump at the end.
    out.more = { next: () => null, close: () => inner.close() };
    return out;
  }
  const check = (chunk: Uint8Array | null): Uint8Array | null => {
    if (chunk === null) {
      if (sent < declared) throw tooShort(declared, sent);
      return null;
    }
    if (sent + chunk.length > declared) {
      tooLong(out.errors, declared);
      chunk = chunk.subarray(0, declared - sent);
    }
    sent += chunk.length;
    return chunk;
  };
  out.more = {
    next() {
      if (sent >= declared) return null;
      const chunk = inner.next();
      return chunk instanceof Promise ? chunk.then(check) : check(chunk);
    },
    close: () => inner.close(),
  };
  return out;
}

function tooLong(errors: ErrorStream, declared: number): void {
  logError(
    errors,
    `The application's body is longer than the Content-Length: ${declared} it declared; the excess was not sent (RFC 9112 §6.3)`,
  );
}

function tooShort(declared: number, sent: number): Error {
  return new Error(
    `The application declared Content-Length: ${declared} but its body ended after ${sent} bytes; the connection is closed so that the client sees an incomplete response (RFC 9112 §8)`,
  );
}

/** A pump that fails at once: the app failed after output was committed. */
function failing(error: unknown): Pump {
  return {
    next: () => {
      throw error;
    },
    close: () => {},
  };
}

/**
 * Runs the application and returns its status, headers and the start of
 * its body. Headers are settled only with the first non-empty chunk or at
 * the end of the body (PEP 3333, "Buffering and Streaming"), so an error
 * before that still becomes wsgiref's 500 page. Never rejects. Synchronous
 * when the application is: the common answer, a list of one chunk, costs
 * no Promise at all.
 */
export function runApp(
  app: WSGIApplication,
  environ: WSGIEnvironment,
  errors: ErrorStream,
  isHead: boolean,
): Outcome | Promise<Outcome> {
  const state = new ResponseState();
  let result: unknown;
  try {
    result = app(environ, state.startResponse);
  } catch (error) {
    return failed(state, null, error, errors);
  }
  if (result instanceof Promise) {
    return result.then(
      (value) => settle(state, value, errors, isHead),
      (error) => failed(state, null, error, errors),
    );
  }
  // The tutorial's answer: startResponse() called, one non-empty chunk, no
  // write(), no close(). Its length is known and nothing is left to pull.
  if (
    Array.isArray(result) && result.length === 1 && state.headers !== null &&
    state.pending.length === 0 &&
    typeof (result as { close?: unknown }).close !== "function"
  ) {
    const chunk: unknown = result[0];
    const headers = state.headers;
    const declared = declaredLength(headers);
    if (
      chunk instanceof Uint8Array && chunk.length > 0 &&
      (declared === -1 || declared === chunk.length)
    ) {
      state.committed = true;
      state.ended = errors;
      return {
        code: state.code,
        reason: state.reason,
        headers,
        length: lengthFor(state.code, headers, chunk.length),
        body: [chunk],
        more: null,
        errors,
      };
    }
  }
  return settle(state, result, errors, isHead);
}

/** The general case of {@linkcode runApp}, once the app has returned. */
async function settle(
  state: ResponseState,
  result: unknown,
  errors: ErrorStream,
  isHead: boolean,
): Promise<Outcome> {
  let body: AppBody | null = null;
  try {
    if (
      result instanceof FileWrapper && state.headers !== null &&
      !state.committed
    ) {
      const src = result.filelike;
      if (src instanceof Blob || src instanceof ReadableStream) {
        // Semantically the same as iterating the wrapper (PEP 3333), but
        // the runtime reads the file itself instead of a copy per block.
        const wrapper = result;
        state.ended = errors;
        const direct: DirectBody = {
          source: src,
          close: () => wrapper.close(),
        };
        return {
          code: state.code,
          reason: state.reason,
          headers: state.headers,
          length: src instanceof Blob
            ? lengthFor(state.code, state.headers, src.size)
            : null,
          body: [],
          more: readerPump(direct),
          errors,
          direct,
        };
      }
    }
    body = new AppBody(result, state, errors);
    let first = body.next();
    if (first instanceof Promise) first = await first;
    const headers = state.headers;
    if (headers === null) {
      throw new Error(
        "The application returned its body without calling startResponse()",
      );
    }
    const out: Outcome = {
      code: state.code,
      reason: state.reason,
      headers,
      length: null,
      body: [],
      more: null,
      errors,
    };
    if (first === null) {
      // The whole body was empty: its length is known (wsgiref's
      // finish_content; an app's own Content-Length stands, as for HEAD).
      await body.close();
      out.length = lengthFor(state.code, headers, 0);
    } else if (body.single && body.spent) {
      await body.close();
      out.length = lengthFor(state.code, headers, first.length);
      out.body.push(first);
    } else if (isHead) {
      // HEAD: the headers GET would send; nothing is read beyond them.
      await body.close();
    } else {
      out.body.push(first);
      out.more = body;
    }
    return isHead ? out : fitLength(out);
  } catch (error) {
    return failed(state, body, error, errors);
  }
}

/** The outcome of an application that threw (or whose body did). */
async function failed(
  state: ResponseState,
  body: AppBody | null,
  error: unknown,
  errors: ErrorStream,
): Promise<Outcome> {
  if (body !== null) await body.close();
  state.ended = errors;
  if (!state.committed || state.headers === null) {
    if (error instanceof BodyTimeout) {
      // A streamed wsgi.input stalled and the app let the error through:
      // the client's fault, answered as a buffered body's would be.
      const text = new TextEncoder().encode("The request body stalled\n");
      return {
        code: 408,
        reason: "Request Timeout",
        headers: [["Content-Type", "text/plain; charset=utf-8"]],
        length: text.length,
        body: [text],
        more: null,
        errors,
        close: true,
      };
    }
    logError(errors, error);
    return errorOutcome(errors);
  }
  // Output was already committed by write(): send it, then fail (the
  // stream's consumer logs the error).
  return {
    code: state.code,
    reason: state.reason,
    headers: state.headers,
    length: null,
    body: state.pending.splice(0),
    more: failing(error),
    errors,
  };
}
