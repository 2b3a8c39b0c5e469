// The access log line in wsgiref's format (http.server's log_message):
// `127.0.0.1 - - [25/Nov/2026 04:00:00] "GET / HTTP/1.1" 200 12`, and the
// batching that takes it to stderr. The core never touches a runtime's
// stderr: each shim hands a `LineBatcher` its own fastest synchronous
// write (src/runtime/_deno.ts, src/runtime/_bun.ts, src/runtime/_node/server.ts).

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

const pad = (n: number): string => (n < 10 ? "0" : "") + n;

/** `DD/Mon/YYYY HH:MM:SS` in local time, as http.server prints it. */
export function logTime(d: Date = new Date()): string {
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The log's date shows whole seconds: it is made once a second, not once a
// request (a Date and six local-time lookups cost more than the rest of
// the line).
let cachedSecond = -1;
let cachedTime = "";

/** {@linkcode logTime} for now, remade only when the second changes. */
export function nowLogTime(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedTime = logTime(new Date(second * 1000));
    cachedSecond = second;
  }
  return cachedTime;
}

const UNSAFE = /[\x00-\x1f\x7f-\x9f\\]/g;

/** True when `s` has nothing {@linkcode escapeLog} would change. */
function isLogSafe(s: string): boolean {
  // A loop, not a regular expression: several times cheaper for the short
  // strings of a request line (measured on Bun and Deno).
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x5c) return false;
  }
  return true;
}

/**
 * Escapes control characters as `\xNN` and doubles backslashes, so that a
 * request cannot forge log lines (CPython gh-100001).
 */
export function escapeLog(s: string): string {
  // Most lines have nothing to escape.
  if (isLogSafe(s)) return s;
  return s.replace(
    UNSAFE,
    (c) =>
      c === "\\"
        ? "\\\\"
        : "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"),
  );
}

/**
 * One access log line, without the trailing newline. `complete` false (the
 * body failed midway, or the client left) marks the line `(incomplete)`:
 * the status was sent, and `bytes` is what was handed to the connection
 * before it was cut.
 */
export function accessLine(
  remoteAddr: string,
  method: string,
  target: string,
  protocol: string,
  code: number,
  bytes: number | null,
  complete = true,
): string {
  return remoteAddr + " - - [" + nowLogTime() + '] "' +
    escapeLog(method + " " + target + " " + protocol) + '" ' + code + " " +
    (bytes === null ? "-" : bytes) + (complete ? "" : " (incomplete)");
}

/**
 * POSIX's PIPE_BUF on Linux: a write() of at most this many bytes to a pipe
 * is atomic, so whole lines written in such writes never interleave with
 * another process's writes to the same pipe (workers sharing stderr).
 */
export const PIPE_BUF = 4096;

/** UTF-8 length of a string. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) n += c > 0x7ff && (c < 0xd800 || c > 0xdbff) ? 2 : 1;
  }
  return n;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A synchronous write of whole lines, each ending in `\n`, `bytes` long in
 * UTF-8: one call is one write of at most {@linkcode PIPE_BUF} bytes,
 * unless a single line is longer.
 */
export type LineSink = (text: string, bytes: number) => void;

/** Every batcher with lines not yet written, so others can flush first. */
const batchers = new Set<LineBatcher>();

/**
 * Writes what every batcher holds now. Called before anything else goes
 * to stderr (a traceback through `wsgi.errors`), so that stderr shows
 * events in the order they happened.
 */
export function flushAccessLogs(): void {
  for (const b of batchers) b.flush();
}

/**
 * Collects log lines and writes them in batches: at most one write per
 * PIPE_BUF bytes of lines, and one a few milliseconds after the first line
 * of a batch, instead of a write per line. Lines stay whole and in order;
 * `flush()` writes everything held (at shutdown and at process exit).
 */
export class LineBatcher {
  #sink: LineSink;
  #delay: number;
  #pending = "";
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #flush = (): void => {
    this.#timer = null;
    this.flush();
  };

  constructor(sink: LineSink, delay = 50) {
    this.#sink = sink;
    this.#delay = delay;
  }

  /** Queues one line (without its newline or any other control character). */
  line(line: string): void {
    // Counted in UTF-16 units, which are bytes while the text is ASCII (an
    // access line nearly always is): #write() checks once per batch.
    const size = line.length + 1;
    // The batch is written before it would grow past PIPE_BUF: every write
    // stays atomic on a pipe.
    if (this.#size > 0 && this.#size + size > PIPE_BUF) this.#write();
    this.#pending += line + "\n";
    this.#size += size;
    if (this.#size >= PIPE_BUF) this.#write();
    else if (this.#timer === null) {
      batchers.add(this);
      this.#timer = setTimeout(this.#flush, this.#delay);
    }
  }

  /** Writes every line held now. */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    batchers.delete(this);
    if (this.#size > 0) this.#write();
  }

  #write(): void {
    const text = this.#pending;
    this.#pending = "";
    this.#size = 0;
    try {
      if (!NON_ASCII.test(text)) return this.#sink(text, text.length);
      // Rare: a target with latin-1 characters (two bytes each in UTF-8).
      // Re-cut the batch on line boundaries by their real size.
      let batch = "";
      let bytes = 0;
      for (let at = 0; at < text.length;) {
        const end = text.indexOf("\n", at) + 1;
        const line = text.slice(at, end);
        at = end;
        const size = utf8Length(line);
        if (bytes > 0 && bytes + size > PIPE_BUF) {
          this.#sink(batch, bytes);
          batch = "";
          bytes = 0;
        }
        batch += line;
        bytes += size;
      }
      if (bytes > 0) this.#sink(batch, bytes);
    } catch {
      // stderr is gone (closed pipe): the server keeps serving.
    }
  }
}
