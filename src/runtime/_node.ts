// The Node shim behind makeServer: `node:http` (or `node:https`), and the
// command line's view of the process. The environ is built straight from
// `IncomingMessage` (its raw `url` and `rawHeaders`), and the response
// written straight to `ServerResponse`: no Web `Request` or `Response` is
// made per request, which would cost more than the whole raw request.
import { serveFacts } from "../core/_serve.ts";
import type { Outcome, Pump } from "../core/_exchange.ts";
import type { RequestFacts } from "../core/environ.ts";
import { consoleErrors, logError } from "../core/_errors.ts";
import { concat } from "../core/_bytes.ts";
import type { Backend, Listen } from "./_backend.ts";
import { accessLogger, flushingBackend } from "./_backend.ts";
import { fdStderr, flushFdStderr } from "./_stderr_fd.ts";
import { type Limits, resolveLimits } from "../core/_limits.ts";
import { headersTooLarge } from "../core/_serve.ts";

// The few Node APIs used here, declared so that neither the build nor the
// published types need @types/node.
interface NodeSocket {
  remoteAddress?: string;
  remotePort?: number;
}
interface NodeRequest extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  httpVersion: string;
  rawHeaders: string[];
  socket: NodeSocket;
}
interface NodeResponse {
  writeHead(code: number, reason: string, headers: string[]): void;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): void;
  destroy(error?: unknown): void;
  once(event: "drain" | "close", listener: () => void): void;
  on(event: "close" | "finish", listener: () => void): void;
  writableFinished: boolean;
  destroyed: boolean;
  socket: ResponseSocket | null;
}
interface ResponseSocket {
  end(): void;
  destroy(): void;
}
interface NodeServer {
  listen(
    options: {
      port?: number;
      host?: string;
      path?: string;
      reusePort?: boolean;
    },
    callback: () => void,
  ): void;
  once(event: "error", listener: (error: Error) => void): void;
  address(): { port: number } | string | null;
  close(callback: (error?: Error) => void): void;
  closeIdleConnections(): void;
  maxHeadersCount: number | null;
}
type RequestListener = (req: NodeRequest, res: NodeResponse) => void;
interface HttpModule {
  createServer(
    options: NodeServerOptions,
    listener: RequestListener,
  ): NodeServer;
}
interface HttpsModule {
  createServer(
    options: NodeServerOptions & { cert: string; key: string },
    listener: RequestListener,
  ): NodeServer;
}
/** The timeouts and limits http.createServer takes (nodejs.org, http). */
interface NodeServerOptions {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
  maxHeaderSize?: number;
}

/**
 * makeServer's limits in Node's terms. Node's own `requestTimeout` (300 s
 * for head and body together) stays, raised if need be: Node refuses a
 * `headersTimeout` above it. Both are checked every
 * `connectionsCheckingInterval` (30 s by default, so a 60 s headersTimeout
 * fired at 90 s): a tenth of the shortest, at most 1 s, honours them
 * promptly.
 */
function nodeServerOptions(limits: Limits): NodeServerOptions {
  const requestTimeout = Math.max(300_000, limits.headersTimeout);
  const shortest = limits.headersTimeout > 0
    ? limits.headersTimeout
    : requestTimeout;
  return {
    headersTimeout: limits.headersTimeout,
    requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(1000, Math.floor(shortest / 10)),
    ),
    ...(limits.maxHeaderSize > 0
      ? { maxHeaderSize: limits.maxHeaderSize }
      : {}),
  };
}

// A variable specifier keeps type checkers from resolving node:http
// (there are no Node types here), and keeps bundlers for other runtimes
// from pulling it in.
async function nodeModule<T>(name: string): Promise<T> {
  return await import(name) as T;
}

/** True when the request has a body to read (RFC 9112 §6.3). */
function hasBody(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      if (raw[i + 1].trim() !== "0") return true;
    } else if (
      name.length === 17 && name.toLowerCase() === "transfer-encoding"
    ) return true;
  }
  return false;
}

/** What a streamed body sent: its bytes, and whether it ended well. */
interface Sent {
  bytes: number;
  ok: boolean;
}

/**
 * Writes an outcome to a ServerResponse; gives the body bytes sent, at
 * once for a body known whole.
 */
function send(
  res: NodeResponse,
  out: Outcome,
  isHead: boolean,
  closing: boolean,
): number | Promise<number | Sent> {
  const flat: string[] = [];
  for (const [name, value] of out.headers) flat.push(name, value);
  if (out.length !== null) flat.push("Content-Length", String(out.length));
  // While shutting down, in-flight responses end their connection, so the
  // server closes once they are done (RFC 9112 §9.6).
  if (closing || out.close) flat.push("Connection", "close");
  // Node, unlike Deno and Bun, sends the application's own reason phrase.
  res.writeHead(out.code, out.reason, flat);
  const more = out.more;
  if (more === null || isHead) {
    const body = out.body.length ? concat(out.body) : undefined;
    const bytes = isHead ? 0 : body?.length ?? 0;
    if (more === null) {
      res.end(body);
      return bytes;
    }
    return Promise.resolve(more.close()).then(() => {
      res.end(body);
      return bytes;
    });
  }
  return stream(res, out, more);
}

/** Writes a streamed body, pulling each chunk as the socket drains. */
async function stream(
  res: NodeResponse,
  out: Outcome,
  more: Pump,
): Promise<Sent> {
  let bytes = 0;
  if (res.destroyed) {
    // The client left while the application was running: "close" has
    // already fired and will not fire again, and write() would return
    // false with no "drain" to follow. Close the iterable now (PEP 3333).
    await more.close();
    return { bytes, ok: false };
  }
  for (const chunk of out.body) {
    bytes += chunk.length;
    res.write(chunk);
  }
  let gone = false;
  let wake: (() => void) | null = null;
  res.on("close", () => {
    // The client went away before the end: stop pulling, close the app's
    // iterable now (PEP 3333), not when it next yields.
    if (!res.writableFinished) {
      gone = true;
      void more.close();
    }
    wake?.();
  });
  try {
    for (;;) {
      if (gone) return { bytes, ok: false };
      let chunk = more.next();
      if (chunk instanceof Promise) chunk = await chunk;
      if (gone) return { bytes, ok: false };
      if (chunk === null) {
        res.end();
        await more.close();
        return { bytes, ok: true };
      }
      bytes += chunk.length;
      if (!res.write(chunk)) {
        // Backpressure: wait until the socket drains (or closes).
        await new Promise<void>((resolve) => {
          wake = resolve;
          res.once("drain", resolve);
        });
        wake = null;
      }
    }
  } catch (error) {
    // After the head, an error can only cut the response short (RFC 9112
    // §8: no chunked terminator, or fewer bytes than Content-Length, so
    // the client sees an incomplete response). destroy() at once dropped
    // the head and chunks Node still held corked: no status line at all.
    // Ending the socket flushes them first, then closes (as Deno does).
    logError(out.errors, error);
    await more.close();
    const socket = res.socket;
    if (socket !== null && !res.destroyed) {
      socket.end();
      // A client that never reads would hold the socket open: drop it.
      const timer = setTimeout(() => socket.destroy(), 5000) as unknown as {
        unref?: () => void;
      };
      timer.unref?.();
    } else res.destroy(error);
    return { bytes, ok: false };
  }
}

/**
 * One request's facts (see makeEnviron), straight from `IncomingMessage`:
 * its raw `url` and `rawHeaders` (no Web `Request`). The peer is read only
 * when needed, through shared getters.
 */
class NodeFacts implements RequestFacts {
  method: string;
  target: string;
  protocol: string;
  headers: string[];
  serverName: string;
  serverPort: number;
  scheme: "http" | "https";
  #socket: NodeSocket;
  #peer: { address: string; port: number | undefined } | null = null;

  constructor(
    req: NodeRequest,
    serverName: string,
    serverPort: number,
    scheme: "http" | "https",
  ) {
    this.method = req.method ?? "GET";
    this.target = req.url ?? "/";
    this.protocol = "HTTP/" + req.httpVersion;
    this.headers = req.rawHeaders;
    this.serverName = serverName;
    this.serverPort = serverPort;
    this.scheme = scheme;
    this.#socket = req.socket;
  }

  get remoteAddr(): string {
    return this.#peer?.address ?? this.#socket.remoteAddress ?? "";
  }

  get remotePort(): number | undefined {
    return this.#peer === null ? this.#socket.remotePort : this.#peer.port;
  }

  /**
   * Keeps the peer for a streamed body: when the client leaves, the app's
   * close() runs after the socket is gone, which then no longer knows its
   * address, and may still read `REMOTE_ADDR`.
   */
  hold(): void {
    const socket = this.#socket;
    this.#peer ??= {
      address: socket.remoteAddress ?? "",
      port: socket.remotePort,
    };
  }
}

/** Binds `node:http` (or `node:https` with `cert` and `key`). */
export const listen: Listen = async (host, port, app, options) => {
  const toStderr = options.log !== false && typeof options.log !== "function";
  const stderr = toStderr ? await fdStderr() : null;
  const log = accessLogger(options, () => stderr!);
  const scheme = options.cert ? "https" : "http";
  let closing = false;
  let boundPort = port;
  // "unix:/path": a unix socket; SERVER_NAME is its path, as in gunicorn.
  const unix = host.startsWith("unix:") ? host.slice(5) : null;
  // Shared by every request: nothing below makes a closure per request on
  // the common path (an app that answers at once).
  const fail = (res: NodeResponse, error: unknown): void => {
    logError(options.errors ?? consoleErrors, error);
    if (!res.destroyed) res.destroy();
  };
  const logged = (
    facts: NodeFacts,
    peer: string,
    code: number,
    sent: number | Sent,
  ): void => {
    if (typeof sent === "number") {
      log?.(peer, facts.method, facts.target, facts.protocol, code, sent);
    } else {
      log?.(
        peer,
        facts.method,
        facts.target,
        facts.protocol,
        code,
        sent.bytes,
        sent.ok,
      );
    }
    if (closing) server.closeIdleConnections();
  };
  const respond = (
    res: NodeResponse,
    facts: NodeFacts,
    peer: string,
    out: Outcome,
  ): void => {
    try {
      if (out.more !== null) facts.hold();
      const bytes = send(res, out, facts.method === "HEAD", closing);
      if (bytes instanceof Promise) {
        bytes.then(
          (n) => logged(facts, peer, out.code, n),
          (e) => fail(res, e),
        );
      } else logged(facts, peer, out.code, bytes);
    } catch (error) {
      fail(res, error);
    }
  };
  const limits = resolveLimits(options);
  // Node counts header fields but drops those past maxHeadersCount
  // silently: it keeps one more, and a request that has it gets 431.
  const maxFields = limits.maxHeaderCount;
  // Runs one request; returns what is still pending when the app could
  // not answer at once (a body to read, an async app), else undefined.
  const handle = (
    req: NodeRequest,
    res: NodeResponse,
  ): Promise<void> | undefined => {
    const facts = new NodeFacts(
      req,
      unix ?? host,
      unix === null ? boundPort : 80,
      scheme,
    );
    // The access log is written when the body ends, perhaps after the
    // socket is gone: the peer is asked for now.
    const peer = log ? facts.remoteAddr : "";
    if (maxFields > 0 && req.rawHeaders.length > 2 * maxFields) {
      respond(
        res,
        facts,
        peer,
        headersTooLarge(
          `The request has more than ${maxFields} header fields (maxHeaderCount)`,
        ),
      );
      return;
    }
    let out: Outcome | Promise<Outcome>;
    try {
      out = serveFacts(
        app,
        facts,
        hasBody(facts.headers) ? req : null,
        options,
      );
    } catch (error) {
      fail(res, error);
      return;
    }
    // Answered at once when it can be: no Promise per request.
    if (out instanceof Promise) {
      return out.then((o) => respond(res, facts, peer, o), (e) => fail(res, e));
    }
    respond(res, facts, peer, out);
  };
  // Node parses pipelined requests ahead and emits each at once: a request
  // behind one whose body is still being read would run its app first,
  // seeing the state from before the request ahead of it (RFC 9112 §9.3.2
  // allows that only for safe methods). So one app runs at a time per
  // connection, in order, as in wsgiref; responses were in order already.
  // A request that is answered at once leaves nothing behind.
  const busy = new WeakMap<object, Promise<void>>();
  const after = (socket: object, pending: Promise<void>): void => {
    busy.set(socket, pending);
    pending.then(() => {
      if (busy.get(socket) === pending) busy.delete(socket);
    });
  };
  const listener: RequestListener = (req, res) => {
    const ahead = busy.get(req.socket);
    if (ahead !== undefined) {
      after(req.socket, ahead.then(() => handle(req, res)));
    } else {
      const pending = handle(req, res);
      if (pending !== undefined) after(req.socket, pending);
    }
  };
  const serverOptions = nodeServerOptions(limits);
  const server = options.cert && options.key
    ? (await nodeModule<HttpsModule>("node:https")).createServer(
      { cert: options.cert, key: options.key, ...serverOptions },
      listener,
    )
    : (await nodeModule<HttpModule>("node:http")).createServer(
      serverOptions,
      listener,
    );
  if (maxFields > 0) server.maxHeadersCount = maxFields + 1;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      unix === null
        ? { port, host, reusePort: options.reusePort }
        : { path: unix },
      resolve,
    );
  });
  const address = server.address();
  if (address && typeof address === "object") boundPort = address.port;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let stopping: Promise<void> | null = null;
  const backend: Backend = {
    hostname: host,
    port: boundPort,
    finished,
    shutdown() {
      stopping ??= new Promise<void>((resolve) => {
        closing = true;
        // close() stops accepting and resolves once every connection is
        // gone; idle keep-alive connections are closed now, busy ones when
        // their response ends (see `closing` above).
        server.close(() => {
          done();
          resolve();
        });
        server.closeIdleConnections();
      });
      return stopping;
    },
  };
  return flushingBackend(backend, flushFdStderr);
};
