// One request that arrived as a Web `Request` through `Deno.serve` or
// `Bun.serve`: its facts for makeEnviron, and the handler both shims share.
// The peer lookup, the request-target (each runtime builds `Request.url`
// its own way) and the body (each drops some) come from the shim; what
// stays the same for every request is one WebListener, made once.
import type { RequestFacts } from "../core/environ.ts";
import type { WSGIApplication, WSGIEnvironment } from "../core/types.ts";
import { type Gate, gateFor } from "../core/_overload.ts";
import type { ServerOptions } from "./types.ts";
import type { Outcome } from "../core/_response/outcome.ts";
import { serveFacts } from "../core/_serve.ts";
import {
  type OnBodyEnd,
  type ResponseMode,
  toResponse,
} from "../core/_response/web_response.ts";
import type { AccessLog } from "./_backend.ts";
import type { ServerMetrics } from "../core/metrics.ts";
import { headersTooLarge, overloaded } from "../core/_response/answers.ts";
import { headTooLarge, type Limits, resolveLimits } from "../core/_limits.ts";
import type { Drain } from "./_drain.ts";

/** The client's address and port. */
interface Peer {
  address: string;
  port: number;
}

/** Asks the runtime for a request's peer; `context` is its second argument. */
export type PeerLookup<C> = (request: Request, context: C) => Peer | null;

/**
 * What a Deno or Bun listener passes to every request: made once by its
 * shim (see {@linkcode webListener}), not a row of arguments per request.
 */
interface WebListener<C> {
  readonly app: WSGIApplication;
  readonly options: ServerOptions;
  readonly log: AccessLog | null;
  /** Asks the runtime for a request's peer. */
  readonly lookup: PeerLookup<C>;
  /** Lifts the runtime's idle timer (see {@linkcode Lift}), or null. */
  readonly lift: Lift<C> | null;
  /** `SERVER_NAME`: the host bound, or a unix socket's path. */
  readonly serverName: string;
  /** `SERVER_PORT`: the port bound (set once listening), 80 on a unix socket. */
  serverPort: number;
  readonly scheme: "http" | "https";
  /** How its Responses are handed to the runtime. */
  readonly mode: ResponseMode;
  /** Header limits counted here (see {@linkcode headGuard}), or null. */
  readonly guard: Limits | null;
  /** The maxConcurrency gate, or null. */
  readonly gate: Gate | null;
  /** The listener's drain: while active, every response closes its connection. */
  readonly drain: Drain;
  readonly metrics: ServerMetrics | null;
  /** The access log reads when a request came (it is taken only then). */
  readonly timed: boolean;
  /** The access log reads when the app ran. */
  readonly waits: boolean;
}

/** What a shim knows of its listener; the rest comes from its options. */
interface WebListenerParts<C> {
  lookup: PeerLookup<C>;
  lift?: Lift<C>;
  serverName: string;
  serverPort: number;
  mode: ResponseMode;
  guard: Limits | null;
  drain: Drain;
}

/** Makes a listener's {@linkcode WebListener}, once. */
export function webListener<C>(
  app: WSGIApplication,
  options: ServerOptions,
  log: AccessLog | null,
  parts: WebListenerParts<C>,
): WebListener<C> {
  return {
    app,
    options,
    log,
    lookup: parts.lookup,
    lift: parts.lift ?? null,
    serverName: parts.serverName,
    serverPort: parts.serverPort,
    scheme: options.cert ? "https" : "http",
    mode: parts.mode,
    guard: parts.guard,
    gate: gateFor(options.maxConcurrency),
    drain: parts.drain,
    metrics: options.metrics ?? null,
    // The time a request came is taken only when the log reads it
    // (performance.now() costs 0.6 µs on Deno, 0.15 µs on Bun and Node).
    timed: log?.timed === true,
    waits: log?.waits === true,
  };
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
  /** The runtime kept no body although one may have been sent. */
  bodyDropped: boolean;
  // For the metrics and the access log: when it began (see LoggedFacts),
  // its body bytes, the environ and when the app ran.
  start = 0;
  received = 0;
  environ: WSGIEnvironment | null = null;
  ran = 0;
  /** The metrics that count it, or null. */
  metrics: ServerMetrics | null = null;
  /** The maxConcurrency gate once a place is taken in it, or null. */
  gate: Gate | null = null;

  /** A request's facts, counted in the listener's metrics from now. */
  constructor(
    request: Request,
    context: C,
    listener: WebListener<C>,
    target: string,
    bodyDropped: boolean,
  ) {
    this.method = request.method;
    this.target = target;
    this.bodyDropped = bodyDropped;
    this.serverName = listener.serverName;
    this.serverPort = listener.serverPort;
    this.scheme = listener.scheme;
    this.#request = request;
    this.#context = context;
    this.#lookup = listener.lookup;
    const metrics = listener.metrics;
    if (metrics !== null) {
      this.metrics = metrics;
      metrics.begin(this);
    } else if (listener.timed) this.start = performance.now();
    if (listener.waits) this.ran = -1;
  }

  /** Lifts the runtime's idle timer for this request (see {@linkcode Lift}). */
  lift(lift: Lift<C>): () => void {
    return lift(this.#request, this.#context);
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
    return (bytes, ok) => log(this, out, peer, bytes, ok);
  }
}

/**
 * Serves one request through `Deno.serve` or `Bun.serve`: the handler both
 * shims share. A Response returned at once spares the runtime a Promise per
 * request. The listener's `lift`: see {@linkcode Lift}.
 */
export function answer<C>(
  listener: WebListener<C>,
  facts: WebFacts<C>,
  body: ReadableStream<Uint8Array> | null,
): Response | Promise<Response> {
  if (listener.drain.active) listener.drain.note();
  const gate = listener.gate;
  if (gate !== null) {
    // Over maxConcurrency: 503 at once, never queued.
    if (!gate.enter()) return respond(overloaded(gate.max), facts, listener);
    facts.gate = gate;
  }
  const guard = listener.guard;
  if (guard !== null) {
    const why = overLimits(guard, facts);
    if (why !== null) return respond(headersTooLarge(why), facts, listener);
  }
  const out = serveFacts(listener.app, facts, body, listener.options);
  const lift = listener.lift;
  if (out instanceof Promise) {
    const done = lift === null ? null : facts.lift(lift);
    return out.then((out) => respond(out, facts, listener, done));
  }
  // Answered at once: a whole body is handed over now, and only a streamed
  // one keeps the connection busy for long (no timer is touched for the
  // common request).
  const done = out.more === null || lift === null ? null : facts.lift(lift);
  return respond(out, facts, listener, done);
}

/**
 * Lifts the runtime's idle timer for a request that is not answered at
 * once, and returns what re-arms it once the response has been handed over
 * (Bun's keep-alive timer, see its shim). Made once per listener.
 */
export type Lift<C> = (request: Request, context: C) => () => void;

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
  listener: WebListener<C>,
): Response {
  return respond(out, facts, listener);
}

function respond<C>(
  out: Outcome,
  facts: WebFacts<C>,
  listener: WebListener<C>,
  done: (() => void) | null = null,
): Response {
  const log = listener.log;
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
  // Draining (src/runtime/_drain.ts): the response says `Connection:
  // close`, as a 408 mid-body does (RFC 9112 §9.6), Node's likewise.
  if (listener.drain.active) out.close = true;
  return toResponse(out, facts.method === "HEAD", listener.mode, onEnd);
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
