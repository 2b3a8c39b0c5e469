// One request that arrived as a Web `Request` through `Deno.serve` or
// `Bun.serve`: its facts for makeEnviron, and the handler both shims share.
// Only the peer lookup differs per runtime.
import type { RequestFacts } from "./environ.ts";
import type { WSGIApplication } from "./types.ts";
import type { ServerOptions } from "./server.ts";
import type { Outcome } from "./_exchange.ts";
import { type OnBodyEnd, serveFacts, toResponse } from "./_serve.ts";
import type { AccessLog } from "./_backend.ts";

/** The client's address and port. */
export interface Peer {
  address: string;
  port: number;
}

/** Asks the runtime for a request's peer; `context` is its second argument. */
export type PeerLookup<C> = (request: Request, context: C) => Peer | null;

function targetOf(url: string): string {
  // The request-target, taken verbatim after "scheme://authority" (new
  // URL() would resolve dot segments): Deno keeps it as the client sent it;
  // Bun hands over a normalised URL (dot segments resolved, non-ASCII
  // percent-encoded), which PATH_INFO decodes the same way and QUERY_STRING
  // shows as Bun made it (see the README's runtime table).
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start === -1 ? "/" : url.slice(start);
}

/**
 * A class, so that its getters are shared: the runtime is asked for the
 * headers and the peer only when the application reads them, and no
 * closure is made per request for that.
 */
export class WebFacts<C> implements RequestFacts {
  method: string;
  target: string;
  // Neither Deno nor Bun exposes the request's HTTP version.
  protocol = "HTTP/1.1";
  serverName: string;
  serverPort: number;
  scheme: "http" | "https";
  #request: Request;
  #context: C;
  #lookup: PeerLookup<C>;
  #peer: Peer | null | undefined = undefined;

  constructor(
    request: Request,
    context: C,
    lookup: PeerLookup<C>,
    serverName: string,
    serverPort: number,
    scheme: "http" | "https",
  ) {
    this.method = request.method;
    this.target = targetOf(request.url);
    this.serverName = serverName;
    this.serverPort = serverPort;
    this.scheme = scheme;
    this.#request = request;
    this.#context = context;
    this.#lookup = lookup;
  }

  get headers(): Headers {
    return this.#request.headers;
  }

  /** The peer, asked of the runtime once. */
  get peer(): Peer | null {
    if (this.#peer === undefined) {
      this.#peer = this.#lookup(this.#request, this.#context);
    }
    return this.#peer;
  }

  get remoteAddr(): string {
    return this.peer?.address ?? "";
  }

  get remotePort(): number | undefined {
    return this.peer?.port;
  }

  /**
   * Asks the runtime now for what the lazy environ keys are made of. A
   * streamed body may outlive the request: when the client leaves, the
   * app's close() runs after Deno and Bun have let the request go (Bun
   * then no longer knows the peer), and may still read `REMOTE_ADDR` or
   * an `HTTP_*` key. Deno keeps headers once they have been asked for.
   */
  hold(): void {
    void this.headers;
    void this.peer;
  }

  /**
   * The access-log callback for an outcome. The line is written when the
   * body ends, perhaps after the runtime has let the request go: the peer
   * is asked for now, before the Response is handed over.
   */
  logger(log: AccessLog, out: Outcome): OnBodyEnd {
    const peer = this.remoteAddr;
    return (bytes) =>
      log(peer, this.method, this.target, this.protocol, out.code, bytes);
  }
}

/**
 * Serves one request through `Deno.serve` or `Bun.serve`: the handler both
 * shims share. A Response returned at once spares the runtime a Promise per
 * request. `textBodies`: short bodies known whole go to the runtime as the
 * text they encode (see toResponse), where that is cheaper.
 */
export function answer<C>(
  app: WSGIApplication,
  options: ServerOptions,
  log: AccessLog | null,
  request: Request,
  facts: WebFacts<C>,
  textBodies = false,
): Response | Promise<Response> {
  const out = serveFacts(app, facts, request.body, options);
  return out instanceof Promise
    ? out.then((out) => respond(out, facts, log, textBodies))
    : respond(out, facts, log, textBodies);
}

function respond<C>(
  out: Outcome,
  facts: WebFacts<C>,
  log: AccessLog | null,
  textBodies: boolean,
): Response {
  // A streamed body: the request's facts are held before it can end (the
  // Node shim does the same with its own).
  if (out.more !== null) facts.hold();
  const onEnd = log && facts.logger(log, out);
  return toResponse(out, facts.method === "HEAD", onEnd, true, textBodies);
}
