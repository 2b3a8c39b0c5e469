// The request side of the Node shim: a request's facts read straight from
// node:http's `IncomingMessage`, with no Web `Request` made.
import type { RequestFacts } from "../../core/environ.ts";
import type { WSGIEnvironment } from "../../core/types.ts";
import { isValidHost } from "../../core/_forwarded/host.ts";
import type { NodeRequest, NodeSocket } from "./http.ts";

/** scanHead: the request has a body to read (RFC 9112 §6.3). */
const HAS_BODY = 1;
/** scanHead: a Host line is not host[:port], or there are two. */
export const BAD_HOST = 2;

/**
 * One pass over the raw header lines: whether the request has a body to
 * read (RFC 9112 §6.3), and whether its Host is bad (RFC 9112 §3.2: 400
 * for two Host lines or an invalid value; Node keeps both lines, and
 * answers 400 itself to an HTTP/1.1 request without Host). BAD_HOST wins.
 */
export function scanHead(raw: string[]): number {
  let found = 0;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const length = name.length;
    if (length === 4) {
      if (
        name.toLowerCase() === "host" &&
        (++hosts > 1 || !isValidHost(raw[i + 1]))
      ) return BAD_HOST;
    } else if (length === 14 && name.toLowerCase() === "content-length") {
      if (raw[i + 1].trim() !== "0") found = HAS_BODY;
    } else if (
      length === 17 && name.toLowerCase() === "transfer-encoding"
    ) found = HAS_BODY;
  }
  return found;
}

/** The Host lines' values, joined by ", " as the environ shows them. */
export function hostValue(raw: string[]): string {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === "host") values.push(raw[i + 1]);
  }
  return values.join(", ");
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
  // For the metrics and the access log: when it began (see LoggedFacts),
  // its body bytes, the environ and when the app ran.
  start = 0;
  received = 0;
  environ: WSGIEnvironment | null = null;
  ran = 0;
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
