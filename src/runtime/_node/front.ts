// The listening side of the Node shim when the HTTP server cannot listen
// by itself: a `node:net` server in front of `node:http`, which accepts
// each connection and hands it over (`emit("connection")`, as node:http's
// own listener does). It takes over an inherited listening socket
// (`fd://3`, systemd socket activation: Bun's node:http ignores `fd`,
// node:net does not) and reads a PROXY protocol header before HTTP sees a
// byte. Deno and Bun run it through their node:net and node:http, which
// both honour the hand-over (measured); their own servers cannot do either.
// With a certificate it runs the TLS handshake itself (tls.ts), and
// it bounds the time to a connection's first request head itself: Bun's
// node:http has no such timer on a handed-over socket.
import {
  parseProxyHeader,
  proxyAllow,
  type ProxyInfo,
  type ProxyProtocolMode,
} from "../../core/_forwarded/proxy_protocol.ts";
import { peerTrusted } from "../../core/_forwarded/proxy_trust.ts";
import { logError } from "../../core/_errors.ts";
import type { ErrorStream } from "../../core/types.ts";
import { nodeModule } from "./http.ts";
import { type SecureSocket, type StartTls, tlsStarter } from "./tls.ts";

// The few node:net APIs used here, declared so that no Node types are needed.
interface NetSocket {
  bytesRead: number;
  destroyed: boolean;
  remoteAddress?: string;
  remotePort?: number;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "error" | "close" | "end", listener: () => void): void;
  removeListener(event: "data", listener: (chunk: Uint8Array) => void): void;
  pause(): void;
  resume(): void;
  unshift(chunk: Uint8Array): void;
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): void;
  end(callback: () => void): void;
  destroy(): void;
  setNoDelay(noDelay: boolean): void;
}
interface NetServer {
  listen(where: Record<string, unknown>, callback: () => void): void;
  once(event: "error", listener: (error: Error) => void): void;
  address(): { address: string; port: number } | string | null;
  close(callback: () => void): void;
}
interface NetModule {
  createServer(listener: (socket: NetSocket) => void): NetServer;
}

/** The HTTP server the connections are handed to. */
interface HandOver {
  emit(event: string, ...args: unknown[]): boolean;
  on(
    event: "request",
    listener: (req: { socket: object }, res: FrontResponse) => void,
  ): void;
  close(callback: (error?: Error) => void): void;
}

/** The response's end, for the next head's timer. */
interface FrontResponse {
  once(event: "close", listener: () => void): unknown;
}

/** Where the front listens. */
type FrontAddress =
  | { fd: number }
  | { path: string }
  | { host: string; port: number; reusePort?: boolean };

/** How connections are read before HTTP. */
interface FrontOptions {
  proxyProtocol?: ProxyProtocolMode | false;
  proxyAllowFrom?: string | readonly string[];
  /**
   * Milliseconds from a connection's accept to the end of its first
   * request head, PROXY header and TLS handshake included (0: no limit).
   */
  headerTimeout: number;
  /**
   * Milliseconds a keep-alive connection may wait idle for its next
   * request; with `headerTimeout`, what a later request head may take.
   */
  keepAliveTimeout?: number;
  /** A certificate and key (PEM): the front speaks TLS to the client. */
  tls?: { cert: string; key: string };
  errors: ErrorStream;
}

/** The front, listening. */
export interface Front {
  /** The bound host (a unix socket's path) and port (80 for a path). */
  hostname: string;
  port: number;
  /**
   * Stops accepting, then closes idle connections (node:http's close());
   * calls back once every connection has closed.
   */
  close(callback: () => void): void;
}

/** What a PROXY header said, kept on the socket for the request's facts. */
export const PROXIED: unique symbol = Symbol("wsgi.proxied");

/** Listens with node:net and hands each connection to `http`. */
export async function listenFront(
  http: HandOver,
  address: FrontAddress,
  options: FrontOptions,
): Promise<Front> {
  const net = await nodeModule<NetModule>("node:net");
  const mode = options.proxyProtocol || null;
  const trust = proxyAllow(options);
  const startTls: StartTls | null = options.tls
    ? await tlsStarter(options.tls)
    : null;
  // The connections accepted, for the graceful stop.
  const open = new Set<NetSocket>();
  // The head's timer of each connection handed to HTTP, by the socket HTTP
  // sees: stopped while a request runs, started again when its response
  // has ended and none other is in flight.
  const heads = new WeakMap<object, Timer>();
  const later = options.headerTimeout > 0
    ? options.headerTimeout + (options.keepAliveTimeout ?? 0)
    : 0;
  http.on("request", (req, res) => {
    const timer = heads.get(req.socket);
    if (timer === undefined) return;
    timer.clear();
    timer.inFlight++;
    if (later === 0) return;
    res.once("close", () => {
      if (--timer.inFlight === 0 && !timer.gone) timer.arm(later);
    });
  });
  const handOver = (socket: NetSocket, timer: Timer): void => {
    const give = (to: NetSocket | SecureSocket): void => {
      heads.set(to, timer);
      if (to !== socket) {
        (to as unknown as Record<symbol, unknown>)[PROXIED] =
          (socket as unknown as Record<symbol, unknown>)[PROXIED];
      }
      http.emit("connection", to);
    };
    if (startTls === null) give(socket);
    else startTls(socket, timer.held, give);
  };
  const server = net.createServer((socket) => {
    // As node:http's own listener does (its noDelay default): a response
    // written in two parts must not wait for the client's delayed ACK.
    socket.setNoDelay(true);
    open.add(socket);
    const timer = headTimer(socket);
    socket.on("close", () => {
      open.delete(socket);
      timer.gone = true;
      timer.clear();
    });
    // A reset before HTTP (or TLS) has the socket is no server error.
    socket.on("error", () => socket.destroy());
    if (mode === null) handOver(socket, timer);
    else readHeader(socket, mode, timer);
  });
  const refuse = (socket: NetSocket, why: string): void => {
    logError(
      options.errors,
      `wsgi: PROXY protocol from ${
        socket.remoteAddress || "a unix socket peer"
      }: ${why}: connection closed`,
    );
    socket.destroy();
  };
  // A request head (RFC 9112 §2.1) that does not end within headersTimeout
  // of the accept closes the connection: a client sending its head a byte
  // at a time (slowloris) would otherwise hold it forever where node:http
  // keeps no timer of its own on a handed-over socket (Bun's). A later
  // head of a keep-alive connection gets that plus keepAliveTimeout from
  // the end of the last response (the front does not see where the idle
  // wait ends and the head begins); node:http's own timers, where it has
  // them, close such a connection sooner.
  const headTimer = (socket: NetSocket): Timer => {
    const timer: Timer = {
      id: null,
      held: new Uint8Array(0),
      inProxyHeader: mode !== null,
      inFlight: 0,
      gone: false,
      clear: () => {
        if (timer.id !== null) clearTimeout(timer.id);
        timer.id = null;
      },
      arm: (ms) => {
        timer.clear();
        timer.id = setTimeout(() => {
          timer.id = null;
          if (timer.inProxyHeader) {
            refuse(socket, "no complete header in time");
          } else socket.destroy();
        }, ms);
      },
    };
    if (options.headerTimeout > 0) timer.arm(options.headerTimeout);
    return timer;
  };
  const readHeader = (
    socket: NetSocket,
    mode: ProxyProtocolMode,
    timer: Timer,
  ): void => {
    let held = new Uint8Array(0);
    const done = (): void => {
      timer.inProxyHeader = false;
      socket.removeListener("data", onData);
    };
    const onData = (chunk: Uint8Array): void => {
      const joined = new Uint8Array(held.length + chunk.length);
      joined.set(held);
      joined.set(chunk, held.length);
      held = joined;
      const seen = parseProxyHeader(held, mode);
      if (seen.kind === "more") return;
      done();
      if (seen.kind === "invalid") {
        timer.clear();
        return refuse(socket, seen.reason);
      }
      let rest = held;
      if (seen.kind === "header") {
        // Only an allowed proxy may say who the client is (gunicorn's
        // --proxy-allow-from); anyone else is refused, not ignored.
        if (!peerTrusted(trust, socket.remoteAddress ?? "")) {
          timer.clear();
          return refuse(socket, "not in proxyAllowFrom");
        }
        adopt(socket, seen.info);
        rest = held.subarray(seen.length);
      }
      socket.pause();
      if (startTls !== null) {
        // node:tls cannot be handed bytes back: they are replayed to it.
        timer.held = rest;
        return handOver(socket, timer);
      }
      // The bytes after the header are the request's: put back, then the
      // socket goes to HTTP exactly as a new connection would.
      if (rest.length > 0) socket.unshift(rest);
      handOver(socket, timer);
      socket.resume();
    };
    socket.on("data", onData);
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      "fd" in address ? { fd: address.fd } : address,
      () => resolve(),
    );
  });
  // node:http arms its header and request timers on "listening". Deno's
  // also asks `listening` after each response, and closes the connection
  // when it is false (denoland/deno#35609, fixed by #35614, not in 2.9.6):
  // the HTTP server listens through the front, so it says so.
  let listening = true;
  Object.defineProperty(http, "listening", {
    get: () => listening,
    configurable: true,
  });
  http.emit("listening");
  const bound = server.address();
  trust.unix = typeof bound === "string" || bound === null;
  return {
    hostname: typeof bound === "string"
      ? bound
      : bound?.address ?? ("path" in address ? address.path : ""),
    port: typeof bound === "object" && bound !== null ? bound.port : 80,
    close(callback) {
      listening = false;
      server.close(callback);
      // A connection accepted just before the stop has not sent its
      // request yet, and node:http counts it idle: closed now, its client
      // would see a reset, though the socket's queue (systemd's, shared
      // with the next server) would have kept it. It gets until its first
      // byte (at most headersTimeout); then node:http's close() stops its
      // timers and closes the idle keep-alive connections (it has no
      // listening handle of its own: the error it reports is expected).
      const deadline = Date.now() + (options.headerTimeout || 10_000);
      const settle = (): void => {
        const fresh = [...open].some((s) => !s.destroyed && s.bytesRead === 0);
        if (fresh && Date.now() < deadline) setTimeout(settle, 5);
        else http.close(() => {});
      };
      settle();
    },
  };
}

/** A connection's timer for its request heads. */
interface Timer {
  id: ReturnType<typeof setTimeout> | null;
  /** Bytes read past a PROXY header, for the TLS handshake. */
  held: Uint8Array;
  /** Still reading the PROXY header: a timeout then is logged. */
  inProxyHeader: boolean;
  /** Requests HTTP is answering on it (pipelined ones count). */
  inFlight: number;
  /** The connection has closed: never armed again. */
  gone: boolean;
  clear(): void;
  /** Closes the connection unless a request head comes within `ms`. */
  arm(ms: number): void;
}

/** The client a PROXY header named becomes the socket's peer. */
function adopt(socket: NetSocket, info: ProxyInfo): void {
  if (info.client !== null) {
    Object.defineProperty(socket, "remoteAddress", {
      value: info.client.address,
      configurable: true,
    });
    Object.defineProperty(socket, "remotePort", {
      value: info.client.port,
      configurable: true,
    });
  }
  (socket as unknown as Record<symbol, ProxyInfo>)[PROXIED] = info;
}
