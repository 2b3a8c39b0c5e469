/**
 * The server's public types, {@linkcode ServerOptions} and
 * {@linkcode WSGIServer}: the contract between `makeServer` and the
 * runtime shims, which import it from here rather than from server.ts (so
 * that imports run one way: server.ts loads the shims).
 *
 * @module
 */
import type { WSGIApplication } from "../core/types.ts";
import type { WSGIOptions } from "../core/options.ts";
import type { ServerMetrics } from "../core/metrics.ts";

// Adding an option? List its name in SERVER_OPTION_NAMES (_create_server.ts,
// where every makeServer checks it): unknown names are a TypeError.
/**
 * Options for {@linkcode makeServer}.
 *
 * @example Usage
 * ```ts
 * import type { ServerOptions } from "@wsgi/wsgi";
 * const options: ServerOptions = { log: false, maxBodySize: 1 << 20 };
 * ```
 */
export interface ServerOptions extends WSGIOptions {
  /** Aborting it shuts the server down, as `shutdown()` does. */
  signal?: AbortSignal;
  /** A PEM certificate (chain): with `key`, the server speaks HTTPS. */
  cert?: string;
  /** The PEM private key for `cert`. */
  key?: string;
  /**
   * The access log: by default one wsgiref-style line per request on
   * stderr; `false` silences it; a function receives each line instead.
   */
  log?: false | ((line: string) => void);
  /**
   * The access log's format and place: gunicorn's format strings
   * (`{ format: '%(h)s "%(r)s" %(s)s %(D)s' }`), one JSON object a line
   * (`{ json: true }`), and a file to append to (`file`; `"-"` is stderr).
   * Unset: wsgiref's line on stderr. `log` still silences it (`false`) or
   * takes each line (a function). See docs/logging.md.
   */
  accessLog?: AccessLogOptions;
  /**
   * The most requests this server runs at once: one more gets `503
   * Service Unavailable` with `Retry-After: 1` at once, and its connection
   * closes. 0: no limit.
   * @default {0}
   */
  maxConcurrency?: number;
  /**
   * The proxies whose forwarded headers are believed: addresses and CIDR
   * ranges, IPv4 and IPv6 (an IPv4-mapped peer such as `::ffff:10.0.0.1`
   * matches `10.0.0.0/8`), as a list or one comma-separated string; `"*"`
   * trusts every peer and every hop; `[]` trusts none. From a trusted peer,
   * `X-Forwarded-For`/`-Proto`/`-Host`/`-Port` and RFC 7239 `Forwarded`
   * set `REMOTE_ADDR` (the nearest untrusted hop, walking right to left),
   * `wsgi.url_scheme`, `HTTP_HOST`, `SERVER_NAME` and `SERVER_PORT`; from
   * any other peer they are ignored and removed from the environ. See
   * docs/proxies.md.
   * @default {["127.0.0.1", "::1"]}
   */
  forwardedAllowIps?: string | readonly string[];
  /**
   * Milliseconds for a request's head (request line and header fields) to
   * arrive, from the connection or the start of the request; 0 turns it
   * off. Node answers 408 and closes; Bun closes (its one idle timer, see
   * docs/limits.md); Deno.serve cannot do it. On `fd://N` and with
   * `proxyProtocol` (every runtime), a connection whose PROXY header, TLS
   * handshake and first request head have not all arrived within it is
   * closed, and a later head must end within it plus `keepAliveTimeout`
   * of the last response.
   * @default {10000}
   */
  headersTimeout?: number;
  /**
   * Milliseconds an idle keep-alive connection is kept between requests;
   * 0 turns it off. Not on Deno.serve (docs/limits.md).
   * @default {5000}
   */
  keepAliveTimeout?: number;
  /**
   * Milliseconds a request body may send nothing: then `408 Request
   * Timeout` and the connection closes (with `bufferInput: false`, the
   * app's read throws, and 408 unless the app answered). 0 turns it off.
   * @default {30000}
   */
  bodyTimeout?: number;
  /**
   * The most request header fields: more get `431 Request Header Fields
   * Too Large`; 0: the runtime's own limit only. Unless given, Deno and
   * Bun keep their own (128 and 198 fields), which cost nothing to check.
   * @default {100}
   */
  maxHeaderCount?: number;
  /**
   * The most bytes of request line and header fields: more get 431; 0:
   * the runtime's own limit only. Deno and Bun cannot go above their own
   * (64 KiB and 16 KiB); unless given, Deno keeps its 64 KiB.
   * @default {16384}
   */
  maxHeaderSize?: number;
  /**
   * Read a PROXY protocol header (haproxy's spec; gunicorn 24's
   * `--proxy-protocol`) before each connection's first request: `"v1"`
   * (text), `"v2"` (binary) or `"auto"` (either). From a peer in
   * `proxyAllowFrom`, the header's client address and port become
   * `REMOTE_ADDR` and `REMOTE_PORT`, and v2's TLS flag makes
   * `wsgi.url_scheme` `https`; a header from any other peer, or a malformed
   * one, closes the connection. A connection without a header is plain
   * HTTP with its own peer, as in gunicorn. On Deno and Bun the server then
   * runs on their `node:http` (their own servers give no access to the
   * connection's first bytes). With `cert` and `key`, the header comes
   * first and TLS after it (a TCP proxy in front of a TLS server, as
   * haproxy's `send-proxy` to an `ssl` backend). See docs/deploy.md.
   * @default {false}
   */
  proxyProtocol?: "v1" | "v2" | "auto" | false;
  /**
   * The peers allowed to send a PROXY protocol header: addresses and CIDR
   * ranges as in `forwardedAllowIps`; `"*"` allows any peer.
   * @default {["127.0.0.1", "::1"]}
   */
  proxyAllowFrom?: string | readonly string[];
  /**
   * Request metrics to record into: requests by method and status class,
   * their durations, bytes, refusals and requests in flight. Serve
   * `metrics.text()` (Prometheus) yourself, or use the command line's
   * `--metrics HOST:PORT` (docs/observability.md). Off by default.
   */
  metrics?: ServerMetrics;
  /**
   * Share the port with other processes that also bind it with
   * `reusePort` (`SO_REUSEPORT`): on Linux the kernel balances new
   * connections between them. Elsewhere (macOS, the BSDs) the last to bind
   * may take them all; Windows has no such option, and Node before 22.12
   * ignores it. The command line's `--workers` uses it on Deno and Bun.
   */
  reusePort?: boolean;
}

/**
 * The access log's format and place (makeServer's `accessLog`).
 *
 * @example Usage
 * ```ts
 * import type { AccessLogOptions } from "@wsgi/wsgi";
 * const json: AccessLogOptions = { json: true, file: "/tmp/access.log" };
 * const apache: AccessLogOptions = { format: '%(h)s "%(r)s" %(s)s %(b)s' };
 * ```
 */
export interface AccessLogOptions {
  /**
   * gunicorn's `access_log_format`: `%(h)s`, `%(r)s`, `%({user-agent}i)s`
   * ... (every atom of gunicorn's table; docs/logging.md).
   */
  format?: string;
  /** One JSON object a line, with OpenTelemetry's field names. */
  json?: boolean;
  /**
   * Append the lines to this file (opened with O_APPEND, so that workers
   * can share it; reopened by {@linkcode reopenLogFiles}); `"-"`: stderr.
   */
  file?: string;
}

/**
 * A running server, as {@linkcode makeServer} returns it.
 *
 * @example Usage
 * ```ts
 * import { demoApp, makeServer, type WSGIServer } from "@wsgi/wsgi";
 * const server: WSGIServer = makeServer("127.0.0.1", 0, demoApp, { log: false });
 * await server.ready;
 * await server.shutdown();
 * ```
 */
export interface WSGIServer {
  /** The application being served. */
  readonly app: WSGIApplication;
  /** Settles once the server listens (rejects if it cannot bind). */
  readonly ready: Promise<void>;
  /** `SERVER_NAME`: the host it was bound to. */
  readonly serverName: string;
  /** The bound port (the free port chosen for port 0, once `ready`). */
  readonly serverPort: number;
  /** The server's base URL, such as `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** Serves until shut down; settles when the server has closed. */
  serveForever(): Promise<void>;
  /**
   * Graceful shutdown: stops accepting connections, closes idle ones, lets
   * requests in flight finish; resolves when done. With `drainMs`, it
   * first drains for up to that long: every response says
   * `Connection: close` and ends its connection, so that keep-alive
   * clients move on between two requests rather than have an idle
   * connection closed under a request on the wire; the drain ends early
   * once no request has come for 200 ms. (On Deno and Bun, where workers
   * share a port by `reusePort`, new connections are still accepted while
   * draining, each answered once.) The supervisor's workers drain for up
   * to 1 s (half `--graceful-timeout` if that is shorter).
   */
  shutdown(how?: { drainMs?: number }): Promise<void>;
}
