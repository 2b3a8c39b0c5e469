// TLS on a connection the node:net front (front.ts) has accepted:
// the front, not node:https, runs the handshake, and hands node:http the
// decrypted socket. Two reasons, both measured on Deno 2.9, Bun 1.4 and
// Node 24: a PROXY protocol header (haproxy `send-proxy` in front of a TLS
// backend) arrives in the same read as the ClientHello, and node:tls over
// the raw socket never sees bytes put back with unshift() (the handshake
// stalls: it reads the socket's handle itself); and Bun's node:https,
// handed a connection with emit("connection"), speaks plain HTTP on it (the
// client sees WRONG_VERSION_NUMBER), so `fd://N` with TLS failed there.
// A `tls.TLSSocket` made by hand, over the raw socket or over a Duplex
// that replays the bytes already read, works on all three.
import { nodeModule } from "./http.ts";

/** The node:net socket the front accepted, as far as TLS needs it. */
export interface RawSocket {
  remoteAddress?: string;
  remotePort?: number;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "end" | "close", listener: () => void): void;
  pause(): void;
  resume(): void;
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): void;
  end(callback: () => void): void;
  destroy(): void;
}

/** The decrypted side: what node:http is handed. */
export interface SecureSocket {
  on(event: "secure", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  destroy(): void;
}

interface Duplex {
  push(chunk: Uint8Array | null): boolean;
  destroy(): void;
}
interface StreamModule {
  Duplex: new (options: {
    read(): void;
    write(
      chunk: Uint8Array,
      encoding: string,
      callback: (error?: Error | null) => void,
    ): void;
    final(callback: () => void): void;
    destroy(error: Error | null, callback: (error: Error | null) => void): void;
  }) => Duplex;
}
interface TlsModule {
  createSecureContext(options: { cert: string; key: string }): unknown;
  TLSSocket: new (
    socket: unknown,
    options: { isServer: true; secureContext: unknown },
  ) => SecureSocket;
}

/**
 * Starts a server-side TLS handshake on `raw`, whose first bytes `read`
 * (perhaps none) were taken off it already; calls `ready` with the TLS
 * socket once the handshake is done, or destroys both sides on a failed
 * handshake (a client error: nothing is logged, as node:https does not).
 */
export type StartTls = (
  raw: RawSocket,
  read: Uint8Array,
  ready: (secure: SecureSocket) => void,
) => void;

/** A StartTls for one certificate and key (PEM). */
export async function tlsStarter(
  tls: { cert: string; key: string },
): Promise<StartTls> {
  const tlsModule = await nodeModule<TlsModule>("node:tls");
  const { Duplex } = await nodeModule<StreamModule>("node:stream");
  // Once per server: a secure context parses the key and certificate.
  const secureContext = tlsModule.createSecureContext(tls);
  return (raw, read, ready) => {
    let under: unknown = raw;
    if (read.length > 0) {
      // Bytes already read (a ClientHello after a PROXY header) go first,
      // then the socket's own; back-pressure pauses the socket.
      const replay = new Duplex({
        read: () => raw.resume(),
        write: (chunk, _encoding, callback) => raw.write(chunk, callback),
        final: (callback) => raw.end(callback),
        destroy: (error, callback) => {
          raw.destroy();
          callback(error);
        },
      });
      replay.push(read);
      raw.on("data", (chunk) => {
        if (!replay.push(chunk)) raw.pause();
      });
      raw.on("end", () => replay.push(null));
      raw.on("close", () => replay.destroy());
      under = replay;
    }
    const secure = new tlsModule.TLSSocket(under, {
      isServer: true,
      secureContext,
    });
    // The peer (perhaps a PROXY header's client) is the raw socket's: a
    // TLSSocket over a Duplex has no address of its own.
    for (const key of ["remoteAddress", "remotePort"] as const) {
      Object.defineProperty(secure, key, {
        value: raw[key],
        configurable: true,
      });
    }
    secure.on("error", () => {
      secure.destroy();
      raw.destroy();
    });
    secure.on("secure", () => ready(secure));
    if (read.length === 0) raw.resume();
  };
}
