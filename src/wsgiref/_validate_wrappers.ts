// wsgiref.validate's wrappers: wsgi.input, wsgi.errors and the body
// iterable, each checking every call that passes through it. Used by
// validate.ts.
import type { ErrorStream, WSGIBody } from "../core/types.ts";
import { bytes, check, PEP, show, WSGIREF } from "./_validate_checks.ts";
import { WSGIValidationError } from "./validation_error.ts";
type Methods = Record<string, (...args: unknown[]) => unknown>;

// Checks 21-26: the synchronous wsgi.input (InputStream).
export class InputWrapper {
  #input: Methods;
  constructor(input: unknown) {
    this.#input = input as Methods;
  }
  read(...args: unknown[]): Uint8Array {
    check(
      args.length === 1,
      `wsgi.input.read() must be called with exactly one argument (a size), got ${args.length}`,
      WSGIREF,
    );
    return bytes(this.#input.read(...args), "wsgi.input.read()");
  }
  readline(...args: unknown[]): Uint8Array {
    check(
      args.length <= 1,
      `wsgi.input.readline() takes at most one argument, got ${args.length}`,
    );
    return bytes(this.#input.readline(...args), "wsgi.input.readline()");
  }
  readlines(...args: unknown[]): Uint8Array[] {
    check(
      args.length <= 1,
      `wsgi.input.readlines() takes at most one argument, got ${args.length}`,
    );
    return lines(this.#input.readlines(...args));
  }
  *[Symbol.iterator](): Generator<Uint8Array> {
    for (let line = this.readline(); line.length > 0; line = this.readline()) {
      yield line;
    }
  }
  close(): never {
    throw new WSGIValidationError(
      `wsgi.input.close() must not be called ${PEP}`,
    );
  }
}

export function lines(v: unknown): Uint8Array[] {
  check(
    Array.isArray(v),
    `wsgi.input.readlines() must give an array, got ${show(v)}`,
  );
  for (const line of v) bytes(line, "Each line from wsgi.input.readlines()");
  return v;
}

// Checks 21-26 for the AsyncInputStream (`bufferInput: false`): the same
// rules, on what each Promise resolves to.
export class AsyncInputWrapper {
  #input: Methods;
  #sync: InputWrapper;
  constructor(input: unknown) {
    this.#input = input as Methods;
    this.#sync = new InputWrapper(input);
  }
  async read(...args: unknown[]): Promise<Uint8Array> {
    check(
      args.length === 1,
      `wsgi.input.read() must be called with exactly one argument (a size), got ${args.length}`,
      WSGIREF,
    );
    return bytes(await this.#input.read(...args), "wsgi.input.read()");
  }
  async readline(...args: unknown[]): Promise<Uint8Array> {
    check(
      args.length <= 1,
      `wsgi.input.readline() takes at most one argument, got ${args.length}`,
    );
    return bytes(await this.#input.readline(...args), "wsgi.input.readline()");
  }
  async readlines(...args: unknown[]): Promise<Uint8Array[]> {
    check(
      args.length <= 1,
      `wsgi.input.readlines() takes at most one argument, got ${args.length}`,
    );
    return lines(await this.#input.readlines(...args));
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (
      let l = await this.readline();
      l.length > 0;
      l = await this.readline()
    ) yield l;
  }
  close(): never {
    return this.#sync.close();
  }
}

// Checks 27-30: wsgi.errors.
export class ErrorWrapper implements ErrorStream {
  #errors: ErrorStream;
  constructor(errors: ErrorStream) {
    this.#errors = errors;
  }
  write(s: string): void {
    check(
      typeof s === "string",
      `wsgi.errors.write() takes a string, got ${show(s)}`,
    );
    this.#errors.write(s);
  }
  writelines(seq: Iterable<string>): void {
    for (const line of seq) this.write(line);
  }
  flush(): void {
    this.#errors.flush();
  }
  close(): never {
    throw new WSGIValidationError(
      `wsgi.errors.close() must not be called ${PEP}`,
    );
  }
}

/** Checks 32-35; returns the status code. */

// Check 51. A JavaScript engine collects when it likes, and runs the
// callback later still, so this reports (it cannot throw: nobody would
// catch it), as Python's `__del__` does; nothing is reported if the
// program ends first, or where FinalizationRegistry is missing.
const unclosed = typeof FinalizationRegistry !== "function"
  ? null
  : new FinalizationRegistry<ErrorStream>((errors) => {
    try {
      errors.write(
        `WSGIValidationError: Iterator garbage collected without being closed ${PEP}\n`,
      );
      errors.flush();
    } catch { /* a broken error stream: nothing more to do */ }
  });

/** Checks 47-51 (`IteratorWrapper`), shared by both kinds of body. */
class BodyWrapper {
  #original: unknown;
  #iter: { return?(): unknown };
  #started: { value: boolean } | null;
  #closed = false;
  constructor(
    original: unknown,
    iter: { return?(): unknown },
    started: { value: boolean },
    errors: ErrorStream,
  ) {
    this.#original = original;
    this.#iter = iter;
    this.#started = started;
    unclosed?.register(this, errors, this);
  }
  protected checkOpen(): void {
    check(!this.#closed, "Iterator read after closed");
  }
  protected checkChunk(r: IteratorResult<unknown>): IteratorResult<Uint8Array> {
    if (r.done) return r as IteratorResult<Uint8Array>;
    check(
      r.value instanceof Uint8Array,
      `Iterator yielded ${
        show(r.value)
      }, not a Uint8Array (encode text with new TextEncoder().encode(...))`,
    );
    if (this.#started !== null) {
      check(
        this.#started.value,
        "The application returned and the server started iterating over its body, but startResponse has not yet been called",
      );
      this.#started = null;
    }
    return r as IteratorResult<Uint8Array>;
  }
  /** Marks the body closed and runs the application's close(). */
  close(): void | Promise<void> {
    this.#closed = true;
    unclosed?.unregister(this);
    const original = this.#original as { close?: () => unknown };
    // Python forwards to close(), which a Python generator has; a
    // JavaScript generator's cleanup is return() on its iterator.
    const r = typeof original.close === "function"
      ? original.close()
      : this.#iter.return?.();
    if (r instanceof Promise) return r.then(() => {});
  }
}

class IteratorWrapper extends BodyWrapper implements Iterable<Uint8Array> {
  #iter: Iterator<unknown>;
  constructor(
    original: Iterable<unknown>,
    started: { value: boolean },
    errors: ErrorStream,
  ) {
    const iter = original[Symbol.iterator]();
    super(original, iter, started, errors);
    this.#iter = iter;
  }
  [Symbol.iterator](): this {
    return this;
  }
  next(): IteratorResult<Uint8Array> {
    this.checkOpen();
    return this.checkChunk(this.#iter.next());
  }
}

class AsyncIteratorWrapper extends BodyWrapper
  implements AsyncIterable<Uint8Array> {
  #iter: AsyncIterator<unknown>;
  constructor(
    original: AsyncIterable<unknown>,
    started: { value: boolean },
    errors: ErrorStream,
  ) {
    const iter = original[Symbol.asyncIterator]();
    super(original, iter, started, errors);
    this.#iter = iter;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
  async next(): Promise<IteratorResult<Uint8Array>> {
    this.checkOpen();
    return this.checkChunk(await this.#iter.next());
  }
}

/** Checks 3-5 (`check_iterator`), then wraps the body. */
export function wrapBody(
  result: unknown,
  started: { value: boolean },
  errors: ErrorStream,
): WSGIBody {
  check(
    result != null && result !== false && result !== 0,
    `The application must return an iterable, if only an empty list; got ${
      show(result)
    }`,
  );
  check(
    typeof result !== "string" && !(result instanceof Uint8Array),
    `The application returned ${
      show(result)
    }: you should not return a string or bytes as your application iterable, instead return a single-item list containing a Uint8Array`,
  );
  const r = result as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
  if (typeof r[Symbol.asyncIterator] === "function") {
    return new AsyncIteratorWrapper(
      r as AsyncIterable<unknown>,
      started,
      errors,
    );
  }
  check(
    typeof r[Symbol.iterator] === "function",
    `The application returned ${
      show(result)
    }, which is neither iterable nor async iterable`,
  );
  return new IteratorWrapper(r as Iterable<unknown>, started, errors);
}
