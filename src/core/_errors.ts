// The default `wsgi.errors`. The core may not touch a runtime's stderr
// handle (it runs on the edge too), so text goes to `console.error`, which
// every runtime sends to stderr. `console.error` ends each call with a
// newline, so output is held until a newline or `flush()`.
import type { ErrorStream } from "./types.ts";
import { flushAccessLogs } from "./_access_log.ts";

/**
 * A line-buffered error stream: text is held until a line ends (or
 * `flush()`), then handed to `emit` whole, without its last newline. The
 * default stream below and the log files' (runtime/_log_files.ts) differ
 * only in where the lines go.
 */
export class LineErrorStream implements ErrorStream {
  #pending = "";
  #emit: (lines: string) => void;

  constructor(emit: (lines: string) => void) {
    this.#emit = emit;
  }

  write(s: string): void {
    if (typeof s !== "string") {
      throw new TypeError(
        `wsgi.errors.write() takes a string, got ${typeof s}`,
      );
    }
    const text = this.#pending + s;
    const nl = text.lastIndexOf("\n");
    if (nl === -1) {
      this.#pending = text;
      return;
    }
    this.#pending = text.slice(nl + 1);
    this.#emit(text.slice(0, nl));
  }

  writelines(seq: Iterable<string>): void {
    for (const s of seq) this.write(s);
  }

  flush(): void {
    if (this.#pending) {
      const pending = this.#pending;
      this.#pending = "";
      this.#emit(pending);
    }
  }
}

/** A line-buffered error stream over `console.error`. */
class ConsoleErrorStream extends LineErrorStream {
  constructor() {
    super((lines) => {
      // Access-log lines held for a batched write go first: stderr keeps
      // the order in which things happened.
      flushAccessLogs();
      console.error(lines);
    });
  }
}

/** The one shared default instance. */
export const consoleErrors: ConsoleErrorStream = new ConsoleErrorStream();

/**
 * The method of an error stream that wants the error itself rather than
 * its text: the test client's, which throws it into the test.
 */
export const CAPTURE: unique symbol = Symbol("wsgi.captureError");

/** An error stream with a {@linkcode CAPTURE} method. */
export interface CapturingErrorStream extends ErrorStream {
  [CAPTURE](error: unknown): void;
}

/**
 * Writes an error's stack (or its text) to an error stream, flushed; or
 * hands the error to the stream's CAPTURE method when it has one.
 */
export function logError(errors: ErrorStream, error: unknown): void {
  const capture = (errors as Partial<CapturingErrorStream>)[CAPTURE];
  if (typeof capture === "function") return capture.call(errors, error);
  try {
    const text = error instanceof Error && error.stack
      ? error.stack
      : String(error);
    errors.write(text.endsWith("\n") ? text : text + "\n");
    errors.flush();
  } catch {
    // A broken error stream must not turn one failure into two.
  }
}
