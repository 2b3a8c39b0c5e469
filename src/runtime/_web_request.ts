// One request that arrived as a Web `Request` through `Deno.serve` or
// `Bun.serve`: its facts for makeEnviron, and the handler both shims share.
// The peer lookup, the request-target (each runtime builds `Request.url`
// its own way) and the body (each drops some) come from the shim.
import type { RequestFacts } from "../core/environ.ts";
import type { WSGIApplication, WSGIEnvironment } from "../core/types.ts";
import { type Gate, overloaded } from "../core/_overload.ts";
import type { ServerOptions } from "./types.ts";
import type { Outcome } from "../core/_exchange.ts";
import { type OnBodyEnd, serveFacts, toResponse } from "../core/_serve.ts";
import type { AccessLog } from "./_backend.ts";
import type { ServerMetrics } from "../core/metrics.ts";
import { headersTooLarge } from "../core/_serve.ts";
import { headTooLarge, type Limits, resolveLimits } from "../core/_limits.ts";

/** The client's address and port. */
export interface Peer {
  address: string;
  port: number;
}

/** Asks the runtime for a request's peer; `context` is its second argument. */
export type PeerLookup<C> = (request: Request, context: C) => Peer | null;

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
  /** The runtime kept no body although one may have been sent. */
  bodyDropped: boolean;
  // For the metrics and the access log: when it began (see LoggedFacts),
  // its body bytes, the environ and when the app ran.
  start = 0;
  received = 0;
  environ: WSGIEnvironment | null = null;
  ran = 0;
  /** The metrics that count it (set by `begin`), or null. */
  metrics: ServerMetrics | null = null;
  /** The server's maxConcurrency gate, set just before answer(). */
  gate: Gate | null = null;

  constructor(
    request: Request,
    context: C,
    lookup: PeerLookup<C>,
    serverName: string,
    serverPort: number,
    scheme: "http" | "https",
    target: string,
    bodyDropped: boolean,
  ) {
    this.method = request.method;
    this.target = target;
    this.bodyDropped = bodyDropped;
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

  /** Counts the request in `metrics` from now (the shim calls it first). */
  begin(metrics: ServerMetrics): void {
    this.metrics = metrics;
    metrics.begin(this);
  }

  /**
   * The access-log callback for an outcome. The line is written when the
   * body ends, perhaps after the runtime has let the request go: the peer
   * is asked for now, before the Response is handed over.
   */
  logger(log: AccessLog, out: Outcome): OnBodyEnd {
    const peer = this.remoteAddr;
    return (bytes, ok) => log(this, out, peer, bytes, ok);
  }
}

/**
 * Serves one request through `Deno.serve` or `Bun.serve`: the handler both
 * shims share. A Response returned at once spares the runtime a Promise per
 * request. `textBodies`: short bodies known whole go to the runtime as the
 * text they encode (see toResponse), where that is cheaper. `lift`: see
 * {@linkcode Lift}.
 */
export function answer<C>(
  app: WSGIApplication,
  options: ServerOptions,
  log: AccessLog | null,
  body: ReadableStream<Uint8Array> | null,
  facts: WebFacts<C>,
  guard: Limits | null = null,
  lift: Lift | null = null,
  textBodies = false,
): Response | Promise<Response> {
  const gate = facts.gate;
  if (gate !== null && !gate.enter()) {
    // Over maxConcurrency: 503 at once, never queued.
    facts.gate = null;
    return respond(overloaded(gate.max), facts, log, null, false);
  }
  if (guard !== null) {
    const why = overLimits(guard, facts);
    if (why !== null) {
      return respond(headersTooLarge(why), facts, log, null, false);
    }
  }
  const out = serveFacts(app, facts, body, options);
  if (out instanceof Promise) {
    const done = lift === null ? null : lift();
    return out.then((out) => respond(out, facts, log, done, textBodies));
  }
  // Answered at once: a whole body is handed over now, and only a streamed
  // one keeps the connection busy for long (no timer is touched for the
  // common request).
  const done = out.more === null || lift === null ? null : lift();
  return respond(out, facts, log, done, textBodies);
}

/**
 * Lifts the runtime's idle timer for a request that is not answered at
 * once, and returns what re-arms it once the response has been handed over
 * (Bun's keep-alive timer, see its shim).
 */
export type Lift = () => () => void;

/**
 * The header limits to count in the handler: those given in `options`
 * that are stricter than the runtime's own (`count` fields, `size` bytes,
 * measured); null when none is (then no request pays for counting). Only
 * limits given explicitly: reading the headers to count them cost 6 µs a
 * request on Deno (hello world: 15 → 21 µs of CPU) and 2 µs on Bun, so the
 * defaults are left to the runtime's own limits there (README).
 */
export function headGuard(
  options: ServerOptions,
  count: number,
  size: number,
): Limits | null {
  const c = options.maxHeaderCount ?? 0;
  const s = options.maxHeaderSize ?? 0;
  if (!((c > 0 && c < count) || (s > 0 && s < size))) return null;
  return { ...resolveLimits(options), maxHeaderCount: c, maxHeaderSize: s };
}

/**
 * Counts a request's header fields and bytes against the limits. Deno and
 * Bun join repeated fields before the handler sees them (Set-Cookie
 * aside), so a field sent twice counts once here.
 */
function overLimits<C>(limits: Limits, facts: WebFacts<C>): string | null {
  // "GET /x HTTP/1.1\r\n", then "Name: value\r\n" per field.
  let size = facts.method.length + facts.target.length + 11;
  let count = 0;
  for (const [name, value] of facts.headers) {
    count++;
    size += name.length + value.length + 4;
  }
  return headTooLarge(limits, count, size);
}

/**
 * Answers a request the shim refuses before the application runs (a Host
 * that is not a host), access-logged as every other answer is.
 */
export function refuse<C>(
  out: Outcome,
  facts: WebFacts<C>,
  log: AccessLog | null,
): Response {
  return respond(out, facts, log, null, false);
}

function respond<C>(
  out: Outcome,
  facts: WebFacts<C>,
  log: AccessLog | null,
  done: (() => void) | null,
  textBodies: boolean,
): Response {
  // A streamed body: the request's facts are held before it can end (the
  // Node shim does the same with its own).
  if (out.more !== null) facts.hold();
  const m = facts.metrics;
  let logEnd = m === null ? log && facts.logger(log, out) : measured(
    m,
    facts,
    out,
    log && facts.logger(log, out),
  );
  const gate = facts.gate;
  if (gate !== null) {
    // The place is given back once the body has ended (or was cancelled).
    const logged = logEnd;
    logEnd = (bytes, ok) => {
      gate.leave();
      logged?.(bytes, ok);
    };
  }
  // `done` runs when the body has been handed over (Bun's shim re-arms
  // its idle timer for keep-alive there).
  const onEnd: OnBodyEnd | null = done === null ? logEnd : (bytes, ok) => {
    done();
    logEnd?.(bytes, ok);
  };
  return toResponse(out, facts.method === "HEAD", onEnd, true, textBodies);
}

/** The end-of-body callback that records the request, then logs it. */
function measured<C>(
  metrics: ServerMetrics,
  facts: WebFacts<C>,
  out: Outcome,
  log: OnBodyEnd | null,
): OnBodyEnd {
  return (bytes, ok) => {
    metrics.end(facts, out.code, bytes, out.refused === true);
    log?.(bytes, ok);
  };
}
