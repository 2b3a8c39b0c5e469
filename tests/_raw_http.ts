// A small raw-TCP HTTP/1.1 client over node:net (which Deno, Bun and Node
// all provide), for what `fetch` hides: the exact status line, interim 1xx
// responses, keep-alive and pipelining on one connection, malformed
// requests, and a client that goes away mid-response.
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Duplex } from "node:stream";

/** One parsed response. */
export interface RawResponse {
  /** The status line as sent, without CRLF: `HTTP/1.1 200 OK`. */
  statusLine: string;
  /** `HTTP/1.1`. */
  version: string;
  /** The status code. */
  status: number;
  /** The reason phrase, possibly empty. */
  reason: string;
  /** Header fields in wire order, names as sent. */
  headers: [string, string][];
  /** The body bytes (de-chunked). */
  body: Uint8Array;
  /** Whether the body was chunked on the wire. */
  chunked: boolean;
}

/** The first value of a header, case-insensitively; null when absent. */
export function header(response: RawResponse, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [n, v] of response.headers) {
    if (n.toLowerCase() === lower) return v;
  }
  return null;
}

/** The body decoded as UTF-8. */
export function text(response: RawResponse): string {
  return new TextDecoder().decode(response.body);
}

const CRLF = "\r\n";

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Encodes a string byte for byte (each char must be below U+0100). */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Thrown when the server closed the connection before a full response. */
export class ConnectionClosed extends Error {}

/** A raw client connection that reads responses from a byte buffer. */
export class RawConnection {
  readonly socket: Socket;
  #buf: Uint8Array = new Uint8Array(0);
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(this.#buf.length + chunk.length);
      next.set(this.#buf);
      next.set(chunk, this.#buf.length);
      this.#buf = next;
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error = error;
      this.#ended = true;
      this.#notify();
    });
    this.closed = new Promise((resolve) => socket.once("close", resolve));
    socket.once("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** True once the server has ended or reset the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes received and not yet consumed by a read. */
  get buffered(): Uint8Array {
    return this.#buf;
  }

  /** Sends bytes (a string is sent as latin-1). */
  write(data: string | Uint8Array): Promise<void> {
    const chunk = typeof data === "string" ? bytes(data) : data;
    return new Promise((resolve, reject) =>
      this.socket.write(chunk, (error) => error ? reject(error) : resolve())
    );
  }

  /** Waits until `ok(buffer)` holds, more data, the end, or a timeout. */
  async #waitFor(ok: () => boolean, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (this.#ended) {
        throw new ConnectionClosed(
          `connection closed while waiting for ${what}${
            this.#error ? ` (${this.#error.message})` : ""
          }; received ${JSON.stringify(latin1(this.#buf))}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; received ${
            JSON.stringify(latin1(this.#buf))
          }`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  #indexOf(needle: string, from = 0): number {
    const b = this.#buf;
    outer: for (let i = from; i + needle.length <= b.length; i++) {
      for (let j = 0; j < needle.length; j++) {
        if (b[i + j] !== needle.charCodeAt(j)) continue outer;
      }
      return i;
    }
    return -1;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /**
   * Waits for at least `n` bytes (or the end) and returns what arrived,
   * without consuming it.
   */
  async peek(n = 1, timeoutMs = 5000): Promise<Uint8Array> {
    try {
      await this.#waitFor(() => this.#buf.length >= n, timeoutMs, "data");
    } catch (error) {
      if (!(error instanceof ConnectionClosed)) throw error;
    }
    return this.#buf;
  }

  /**
   * Reads one response. `head` means the request was HEAD (no body
   * follows whatever the headers say). Interim 1xx responses are returned
   * like any other; call again for the final one.
   */
  async readResponse(
    options: { head?: boolean; timeoutMs?: number } = {},
  ): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? 5000;
    await this.#waitFor(
      () => this.#indexOf(CRLF + CRLF) !== -1,
      timeoutMs,
      "a response head",
    );
    const end = this.#indexOf(CRLF + CRLF);
    const head = latin1(this.#take(end + 4)).slice(0, end);
    const [statusLine, ...lines] = head.split(CRLF);
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) {
      throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    }
    const headers: [string, string][] = lines.map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const status = Number(m[2]);
    const response: RawResponse = {
      statusLine,
      version: m[1],
      status,
      reason: m[3] ?? "",
      headers,
      body: new Uint8Array(0),
      chunked: false,
    };
    // RFC 9112 §6.3: no body after HEAD, 1xx, 204 and 304.
    if (
      options.head || status < 200 || status === 204 || status === 304
    ) return response;
    const te = header(response, "transfer-encoding");
    const cl = header(response, "content-length");
    if (te !== null && /chunked/i.test(te)) {
      response.chunked = true;
      response.body = await this.#readChunked(timeoutMs);
    } else if (cl !== null) {
      const n = Number(cl);
      await this.#waitFor(() => this.#buf.length >= n, timeoutMs, "the body");
      response.body = this.#take(n);
    } else {
      // Delimited by the end of the connection.
      try {
        await this.#waitFor(() => false, timeoutMs, "the end of the body");
      } catch (error) {
        if (!(error instanceof ConnectionClosed)) throw error;
      }
      response.body = this.#take(this.#buf.length);
    }
    return response;
  }

  async #readChunked(timeoutMs: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      await this.#waitFor(
        () => this.#indexOf(CRLF) !== -1,
        timeoutMs,
        "a chunk size",
      );
      const line = latin1(this.#take(this.#indexOf(CRLF) + 2)).trim();
      const size = parseInt(line.split(";")[0], 16);
      if (Number.isNaN(size)) {
        throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
      }
      if (size === 0) {
        // Trailer fields, then the final CRLF.
        for (;;) {
          await this.#waitFor(
            () => this.#indexOf(CRLF) !== -1,
            timeoutMs,
            "the chunked trailer",
          );
          const t = this.#take(this.#indexOf(CRLF) + 2);
          if (t.length === 2) break;
        }
        break;
      }
      await this.#waitFor(
        () => this.#buf.length >= size + 2,
        timeoutMs,
        "a chunk",
      );
      parts.push(this.#take(size));
      this.#take(2);
    }
    let total = 0;
    for (const p of parts) total += p.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Waits until the server closes the connection; true if it did. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    try {
      await this.#waitFor(() => false, timeoutMs, "the end");
    } catch (error) {
      return error instanceof ConnectionClosed;
    }
    return false;
  }

  /** Half-closes (FIN) our side. */
  end(): void {
    this.socket.end();
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens a raw connection. */
export function connect(
  port: number,
  host = "127.0.0.1",
): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.setNoDelay(true);
      resolve(new RawConnection(socket));
    });
  });
}

/**
 * Opens a TLS connection for "localhost" trusting `ca`: to 127.0.0.1's
 * `port`, or over a stream already connected (`socket`); resolves once the
 * handshake is done.
 */
export async function connectTls(
  to: { port: number } | { socket: Duplex },
  ca: string,
): Promise<RawConnection> {
  const socket = tlsConnect({
    ...("port" in to ? { port: to.port, host: "127.0.0.1" } : to),
    ca,
    servername: "localhost",
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  return new RawConnection(socket);
}

/**
 * Sends `data` on a fresh connection and reads `count` responses (the
 * methods tell which are HEAD), then closes it.
 */
export async function exchange(
  port: number,
  data: string | Uint8Array,
  count = 1,
  heads: boolean[] = [],
): Promise<RawResponse[]> {
  const conn = await connect(port);
  try {
    await conn.write(data);
    const out: RawResponse[] = [];
    for (let i = 0; i < count; i++) {
      out.push(await conn.readResponse({ head: heads[i] ?? false }));
    }
    return out;
  } finally {
    conn.destroy();
  }
}

/** A plain GET request with Host. */
export function get(target: string, extra = ""): string {
  return `GET ${target} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}
