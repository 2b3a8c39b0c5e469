/**
 * {@linkcode ServerMetrics}: request counters, a duration histogram and
 * byte counts for one process, in Prometheus' text format. Pass one as
 * `makeServer`'s `metrics` option and serve `metrics.text()` where your
 * scraper looks; the command line's `--metrics HOST:PORT` does that for
 * you, summed over its workers (docs/observability.md).
 *
 * @module
 */
import { IN_FLIGHT, record, REFUSALS, REFUSED, SIZE } from "./_metrics.ts";
import {
  OPENMETRICS_TYPE,
  PROMETHEUS_TYPE,
  renderMetrics,
} from "./_metrics_text.ts";

/** What a server knows of a request (its facts), for the metrics. */
export interface MeasuredRequest {
  /** The request method. */
  method: string;
  /** The request-target. */
  target: string;
  /** When it began (`performance.now()`, set by `begin()`). */
  start: number;
  /** The request body bytes (its Content-Length, or what was read). */
  received: number;
}

/** Options for {@linkcode ServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * Keep the requests in flight, for {@linkcode ServerMetrics.inFlight}
   * (a set insertion and deletion per request).
   * @default {false}
   */
  track?: boolean;
  /**
   * Record into this memory instead of an array of its own: at least
   * {@linkcode ServerMetrics.SIZE} numbers, such as a file mapped shared
   * into memory, which then outlives the process (the command line's
   * workers do this on Deno and Bun).
   */
  memory?: Float64Array;
}

/** A request being served, as {@linkcode ServerMetrics.inFlight} lists it. */
export interface InFlightRequest {
  /** The request method. */
  method: string;
  /** The request-target. */
  target: string;
  /** Seconds since it began. */
  seconds: number;
}

/**
 * One process's request metrics, shared by every server given it in the
 * `metrics` option. Counters only grow. Recording costs a few array
 * increments and two clock reads per request.
 *
 * @example Usage
 * ```ts
 * import { demoApp, makeServer, ServerMetrics } from "@wsgi/wsgi";
 * import assert from "node:assert/strict";
 * const metrics = new ServerMetrics();
 * const server = makeServer("127.0.0.1", 0, demoApp, { log: false, metrics });
 * await server.ready;
 * await (await fetch(server.url)).text();
 * assert.match(
 *   metrics.text(),
 *   /wsgi_http_server_requests_total\{http_request_method="GET",status_class="2xx"\} 1/,
 * );
 * await server.shutdown();
 * ```
 */
export class ServerMetrics {
  #v: Float64Array;
  #live: Set<MeasuredRequest> | null;

  /** How many numbers a metrics memory holds (see `memory`). */
  static readonly SIZE: number = SIZE;

  /** Prometheus' text format's `Content-Type`. */
  static readonly PROMETHEUS_TYPE: string = PROMETHEUS_TYPE;
  /** OpenMetrics' `Content-Type`. */
  static readonly OPENMETRICS_TYPE: string = OPENMETRICS_TYPE;

  /** New, empty metrics. */
  constructor(options: ServerMetricsOptions = {}) {
    this.#live = options.track ? new Set() : null;
    const memory = options.memory;
    if (memory !== undefined && memory.length < SIZE) {
      throw new RangeError(
        `ServerMetrics: memory must hold ${SIZE} numbers, got ${memory.length}`,
      );
    }
    this.#v = memory ?? new Float64Array(SIZE);
  }

  /** Called by the server as a request begins: notes its start, in flight. */
  begin(request: MeasuredRequest): void {
    this.#v[IN_FLIGHT]++;
    this.#live?.add(request);
    request.start = performance.now();
  }

  /**
   * Called by the server when a request's response has ended (or was cut).
   * @param request The request's method, start and body size.
   * @param code The status sent.
   * @param sent Response body bytes handed to the connection.
   * @param refused The server answered it itself (400, 408, 413, 431, 503).
   */
  end(
    request: MeasuredRequest,
    code: number,
    sent: number | null,
    refused: boolean,
  ): void {
    this.#live?.delete(request);
    record(
      this.#v,
      request.method,
      code,
      (performance.now() - request.start) / 1000,
      request.received,
      sent ?? 0,
      refused,
    );
  }

  /**
   * Called by the server for an answer it made to a request too malformed
   * to count as one (Node's parser refusing it): counted as refused only.
   * @param code The status sent (400, 408, 413, 431 or 503).
   */
  refused(code: number): void {
    const r = REFUSALS.indexOf(code);
    if (r !== -1) this.#v[REFUSED + r]++;
  }

  /**
   * The metrics now, as Prometheus text (0.0.4), or OpenMetrics 1.0 when
   * `openMetrics` is true (see the `Content-Type` statics).
   */
  text(openMetrics = false): string {
    return renderMetrics(this.#v, [], openMetrics);
  }

  /** The requests in flight now, oldest first (empty unless `track`). */
  inFlight(): InFlightRequest[] {
    const now = performance.now();
    return [...this.#live ?? []].map((r) => ({
      method: r.method,
      target: r.target,
      seconds: (now - r.start) / 1000,
    }));
  }

  /** A copy of the raw numbers (the command line sends them to its parent). */
  snapshot(): Float64Array {
    return this.#v.slice(0, SIZE);
  }
}
