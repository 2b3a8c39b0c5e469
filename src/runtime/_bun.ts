// The Bun shim behind makeServer: `Bun.serve`. Only this file, src/runtime/bun.ts
// and the command line's src/process/_bun.ts touch `Bun`.
import {
  answer,
  headGuard,
  type Lift,
  type PeerLookup,
  refuse,
  WebFacts,
  webListener,
} from "./_web_request.ts";
import { resolveLimits } from "../core/_limits.ts";
import { isValidHost } from "../core/_forwarded/host.ts";
import { badHost } from "../core/_response/answers.ts";
import { authorityOf, targetAt, targetFrom } from "../core/_target.ts";
import type { Listen } from "./_backend.ts";
import {
  accessLogger,
  fileLog,
  flushingBackend,
  stoppableBackend,
} from "./_backend.ts";
import { appendOps } from "./_log_files.ts";
import { fdStderr, flushFdStderr } from "./_stderr_fd.ts";
import { Drain } from "./_drain.ts";

// The few Bun APIs used here, declared so that no Bun type package is
// needed to type-check or to consume the published types.
interface BunServer {
  port: number;
  hostname: string;
  requestIP(request: Request): { address: string; port: number } | null;
  timeout(request: Request, seconds: number): void;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunGlobal {
  serve(options: {
    hostname?: string;
    port?: number;
    unix?: string;
    reusePort?: boolean;
    tls?: { cert: string; key: string };
    idleTimeout?: number;
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}

const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const process = (globalThis as unknown as { process: { pid: number } })
  .process;

/** Bun's peer: asked of the server for the request. */
const bunPeer: PeerLookup<BunServer> = (request, server) =>
  server.requestIP(request);

/** Binds `Bun.serve` for a WSGI application. */
export const listen: Listen = async (host, port, app, options) => {
  const toStderr = options.log !== false && typeof options.log !== "function";
  const stderr = toStderr ? await fdStderr() : null;
  const log = accessLogger(options, {
    stderr: () => stderr!,
    file: fileLog(await appendOps()),
    pid: process.pid,
  });
  const limits = resolveLimits(options);
  // Bun has one idle timer per connection (`idleTimeout`, whole seconds,
  // at most 255, checked every 4 s: it fires 0-4 s late, measured). It is
  // the keep-alive timeout here; while a request is served it is lifted
  // (the app may think as long as it likes, as on Node and Deno; a stalled
  // body is the core's bodyTimeout, with its 408) and re-armed when the
  // response has been handed over. The head's timeout is Bun's own, fixed
  // at 10 s (12 s measured): headersTimeout cannot change it.
  const keepAlive = limits.keepAliveTimeout === 0
    ? 0
    : Math.min(255, Math.ceil(limits.keepAliveTimeout / 1000));
  // Bun refuses more than 198 fields or 16 KiB of head itself (431);
  // header limits given explicitly are counted when stricter (headGuard,
  // in the listener below).
  const drain = new Drain();
  // "unix:/path": a unix socket; SERVER_NAME is its path, as in gunicorn.
  const unix = host.startsWith("unix:") ? host.slice(5) : null;
  // The idle timer is lifted only for a request not answered at once
  // (see answer): made once here, not as a closure per request.
  const lift: Lift<BunServer> = (request, srv) => {
    srv.timeout(request, 0);
    return () => {
      try {
        srv.timeout(request, keepAlive);
      } catch {
        // The client has gone: nothing left to time.
      }
    };
  };
  // The scheme and authority ("http://host:port/") last found valid.
  let known = "";
  const listener = webListener(app, options, log, {
    lookup: bunPeer,
    lift,
    serverName: unix ?? host,
    serverPort: unix === null ? port : 80,
    mode: { onWire: true, textBodies: false, statusText: false },
    drain,
    guard: headGuard(options, 198, 16 * 1024),
  });
  const server = Bun.serve({
    idleTimeout: keepAlive,
    ...(unix === null
      ? { hostname: host, port, reusePort: options.reusePort }
      : { unix }),
    tls: options.cert && options.key
      ? { cert: options.cert, key: options.key }
      : undefined,
    fetch(request, srv) {
      // RFC 9112 §3.2: a Host that is not host[:port] gets a 400, as from
      // the fetch handler (Bun itself answers 400 to an HTTP/1.1 request
      // without Host). Bun gives a bare target exactly when Host is
      // missing, empty or not a host, so only then is it read: reading it
      // on every request makes Bun build the whole Headers object, which
      // cost 3.5 µs a request with a browser's nine headers (a quarter of
      // the request; measured). So two Host lines pass on Bun (the URL is
      // built from the first, HTTP_HOST joins both): README's table.
      //
      // The target from the URL that Bun builds: `http://` + host + target,
      // normalised (dot segments resolved, non-ASCII percent-encoded, which
      // PATH_INFO decodes the same way and QUERY_STRING shows as Bun made
      // it: see the README's runtime table), or the bare target (see
      // core/_target.ts), from which nothing is cut.
      const url = request.url;
      let at: number;
      let sent: string | null = null;
      if (known !== "" && url.startsWith(known)) {
        // The common case: the scheme and authority of an earlier request
        // whose Host was found valid, up to the "/" that ends them (the
        // authority ends at the first "/": RFC 3986 §3.2), so the same
        // check would give the same answer (0.1 µs a request, in-process).
        at = known.length - 1;
      } else {
        at = targetAt(url);
        if (at === 0) sent = request.headers.get("host");
        else {
          // A full URL: its authority is the Host as Bun took it
          // (lower-cased, ":80" dropped), and Bun lets a bad port through
          // ("evil:abc").
          const authority = authorityOf(url, at);
          if (!isValidHost(authority)) {
            sent = request.headers.get("host") ?? authority;
          } else if (url.charCodeAt(at) === 47) known = url.slice(0, at + 1);
        }
      }
      // Bun gives no body to GET, HEAD and TRACE requests, even one sent
      // with Content-Length (it frames and discards it): CONTENT_LENGTH
      // then says "" (see WebFacts.bodyDropped), not a length wsgi.input
      // cannot give. Telling such a request apart would mean reading its
      // headers before the app runs: a bare Bun.serve handler that does so
      // uses a third more CPU per request (measured, nine headers).
      const body = request.body;
      const target = at === 0 ? url : targetFrom(url, at);
      const facts = new WebFacts(request, srv, listener, target, body === null);
      if (sent !== null && !isValidHost(sent)) {
        return refuse(badHost(sent), facts, listener);
      }
      return answer(listener, facts, body);
    },
  });
  const boundPort = server.port ?? 0;
  if (unix === null) listener.serverPort = boundPort;
  // stop() closes idle keep-alive connections at once and resolves when
  // the requests in flight have finished.
  const backend = stoppableBackend(
    host,
    boundPort,
    () => server.stop(),
    (maxMs) => drain.run(maxMs),
  );
  return flushingBackend(backend, flushFdStderr);
};
