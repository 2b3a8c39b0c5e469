// The timeouts and limits of makeServer (issue 9): their defaults, and the
// check of the values given. The shims map them onto what each runtime
// offers (README, "Timeouts and limits"); the body timeout and the header
// checks the runtime lacks are done here, in the core, the same everywhere.

/** The five timeouts and limits, all given (0: no limit of this server's). */
export interface Limits {
  headersTimeout: number;
  keepAliveTimeout: number;
  bodyTimeout: number;
  maxHeaderCount: number;
  maxHeaderSize: number;
}

/**
 * The defaults, chosen against the mature servers:
 * - `headersTimeout` 10 s: Node waits 60 s (its `headersTimeout`, checked
 *   every 30 s: 90 s measured), granian 30 s, gunicorn has none (its sync
 *   worker's `timeout` kills the worker); Bun closes at 10 s (its one
 *   `idleTimeout`). A real client sends its head in one write: 10 s is far
 *   above any honest client and keeps slowloris sockets few.
 * - `keepAliveTimeout` 5 s: Node's default; gunicorn 2 s; Bun 10 s. A proxy
 *   in front must close idle connections before this (ALB: set this above
 *   its 60 s idle timeout instead).
 * - `bodyTimeout` 30 s of silence mid-body, then 408: gunicorn's worker
 *   `timeout` is 30 s; Node's `requestTimeout` (300 s) caps the whole
 *   request, not a stall.
 * - `maxHeaderCount` 100: gunicorn's `limit_request_fields`; Node allows
 *   2000 and drops the rest silently; Deno refuses more than 128 (400),
 *   Bun more than 198 (431) (measured). On Deno and Bun the default is
 *   left to those (counting costs CPU on every request: see headGuard in
 *   _web_request.ts); a value given is enforced everywhere.
 * - `maxHeaderSize` 16 KiB (request line and fields): Node's and Bun's
 *   default; gunicorn allows 100 fields of 8190 bytes, Deno 64 KiB.
 */
const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  headersTimeout: 10_000,
  keepAliveTimeout: 5_000,
  bodyTimeout: 30_000,
  maxHeaderCount: 100,
  maxHeaderSize: 16 * 1024,
});

const NAMES = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

/**
 * The limits an options object asks for, defaults filled in; throws a
 * RangeError naming a value that is not a whole number ≥ 0.
 */
export function resolveLimits(options: Partial<Limits>): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const name of NAMES) {
    const value = options[name];
    if (value === undefined) continue;
    if (
      typeof value !== "number" || !Number.isInteger(value) || value < 0 ||
      value > 2 ** 31 - 1
    ) {
      throw new RangeError(
        `makeServer(): ${name} must be a whole number from 0 to ${
          2 ** 31 - 1
        } (${
          name.endsWith("Timeout") ? "milliseconds" : "0 for no limit"
        }), got ${typeof value === "number" ? value : JSON.stringify(value)}`,
      );
    }
    out[name] = value;
  }
  return out;
}

/** Thrown while reading a request body that stalled past `bodyTimeout`. */
export class BodyTimeout extends Error {
  constructor(ms: number) {
    super(`The request body sent nothing for ${ms} ms (bodyTimeout)`);
    this.name = "BodyTimeout";
  }
}

/**
 * Why a request head is over the limits (`count` header fields of `size`
 * bytes in all, request line included), or null when it is not. Used
 * where the runtime does not count for itself.
 */
export function headTooLarge(
  limits: Limits,
  count: number,
  size: number,
): string | null {
  if (limits.maxHeaderCount > 0 && count > limits.maxHeaderCount) {
    return `The request has ${count} header fields, more than the limit of ${limits.maxHeaderCount} (maxHeaderCount)`;
  }
  if (limits.maxHeaderSize > 0 && size > limits.maxHeaderSize) {
    return `The request head is ${size} bytes, more than the limit of ${limits.maxHeaderSize} (maxHeaderSize)`;
  }
  return null;
}

/** A body source: a Web stream or an async iterable (Node's request). */
type Source = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * A request body that fails with {@linkcode BodyTimeout} when a read waits
 * more than `ms` for data. One timer per body, re-armed lazily, not one per
 * chunk. On a timeout a Web body is cancelled; Node's request is left as it
 * is (destroying it would destroy the socket before the 408 is written).
 */
export function stallGuard(
  source: Source,
  ms: number,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const reader = source instanceof ReadableStream
        ? source.getReader()
        : null;
      const iter = reader === null
        ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        : null;
      let last = 0;
      let timer: ReturnType<typeof setTimeout> | null = null;
      let fail: ((error: unknown) => void) | null = null;
      const check = (): void => {
        timer = null;
        if (fail === null) return;
        const idle = Date.now() - last;
        if (idle < ms) {
          timer = setTimeout(check, ms - idle);
          return;
        }
        const reject = fail;
        fail = null;
        reader?.cancel().catch(() => {});
        reject(new BodyTimeout(ms));
      };
      const stop = (): void => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        fail = null;
      };
      return {
        next(): Promise<IteratorResult<Uint8Array>> {
          return new Promise((resolve, reject) => {
            last = Date.now();
            fail = reject;
            const read = reader !== null ? reader.read() : iter!.next();
            read.then((r) => {
              if (fail !== reject) return; // timed out already
              fail = null;
              if (r.done) stop();
              resolve(r as IteratorResult<Uint8Array>);
            }, (error) => {
              if (fail !== reject) return;
              stop();
              reject(error);
            });
            timer ??= setTimeout(check, ms);
          });
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          stop();
          if (reader !== null) await reader.cancel().catch(() => {});
          else await iter!.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
