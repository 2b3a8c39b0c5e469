// The request side of the Node shim: a request's facts read straight from
// node:http's `IncomingMessage`, with no Web `Request` made.
import type { RequestFacts } from "../core/environ.ts";
import type { NodeRequest, NodeSocket } from "./_http_node.ts";

/** True when the request has a body to read (RFC 9112 §6.3). */
export function hasBody(raw: string[]): boolean {
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

/**
 * One request's facts (see makeEnviron), straight from `IncomingMessage`:
 * its raw `url` and `rawHeaders` (no Web `Request`). The peer is read only
 * when needed, through shared getters.
 */
export class NodeFacts implements RequestFacts {
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
