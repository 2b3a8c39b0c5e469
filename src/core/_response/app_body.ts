// The application's body (PEP 3333): the iterable it returned, checked,
// pulled chunk by chunk after what write() queued, and closed exactly once
// whatever happens, as wsgiref and gunicorn do.
import type { ErrorStream } from "../types.ts";
import type { ResponseState } from "./state.ts";
import type { Pump } from "./outcome.ts";
import { logError } from "../_errors.ts";

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
export class AppBody implements Pump {
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
    // A string or a bare Uint8Array is iterable, but not a list of chunks.
    const r = typeof result === "object" && result !== null &&
        !(result instanceof Uint8Array)
      ? result as Partial<Iterable<unknown> & AsyncIterable<unknown>>
      : null;
    if (r !== null && typeof r[Symbol.asyncIterator] === "function") {
      this.#asyncIter = r[Symbol.asyncIterator]!();
    } else if (r !== null && typeof r[Symbol.iterator] === "function") {
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
