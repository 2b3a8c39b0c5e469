// The Node shim behind makeServer: `node:http` (or `node:https`). The
// environ is built straight from `IncomingMessage` (its raw `url` and
// `rawHeaders`), and the response written straight to `ServerResponse`: no
// Web `Request` or `Response` is made per request, which would cost more
// than the whole raw request.
// The request side is facts.ts, the response side send.ts,
// the Node APIs used http.ts; here, the server and its listener.
import { serveFacts } from "../../core/_serve.ts";
import type { Outcome } from "../../core/_response/outcome.ts";
import {
  badHost,
  overloaded,
  tooManyFields,
} from "../../core/_response/answers.ts";
import { consoleErrors, logError } from "../../core/_errors.ts";
import type { Listen } from "../_backend.ts";
import {
  accessLogger,
  fileLog,
  flushingBackend,
  stoppableBackend,
} from "../_backend.ts";
import { nodeAppend } from "../_log_file_node.ts";
import { gateFor } from "../../core/_overload.ts";
import { fdStderr, flushFdStderr } from "../_stderr_fd.ts";
import { type Limits, resolveLimits } from "../../core/_limits.ts";
import { BAD_HOST, hostValue, NodeFacts, scanHead } from "./facts.ts";
import {
  type HttpModule,
  type HttpsModule,
  type NetModule,
  nodeModule,
  type NodeRequest,
  type NodeResponse,
  type NodeServerOptions,
  type RequestListener,
} from "./http.ts";
import { send, type Sent } from "./send.ts";
import { Drain } from "../_drain.ts";
import { type Front, listenFront, PROXIED } from "./front.ts";
import type { ProxyInfo } from "../../core/_forwarded/proxy_protocol.ts";
import { type ClientErrorSource, countClientErrors } from "./client_error.ts";

/**
 * makeServer's limits in Node's terms. Node's own `requestTimeout` (300 s
 * for head and body together) stays, raised if need be: Node refuses a
 * `headersTimeout` above it. Both are checked every
 * `connectionsCheckingInterval` (30 s by default, so a 60 s headersTimeout
 * fired at 90 s): a tenth of the shortest, at most 1 s, honours them
 * promptly.
 */
function nodeServerOptions(limits: Limits): NodeServerOptions {
  const requestTimeout = Math.max(300_000, limits.headersTimeout);
  const shortest = limits.headersTimeout > 0
    ? limits.headersTimeout
    : requestTimeout;
  return {
    headersTimeout: limits.headersTimeout,
    requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(1000, Math.floor(shortest / 10)),
    ),
    ...(limits.maxHeaderSize > 0
      ? { maxHeaderSize: limits.maxHeaderSize }
      : {}),
  };
}

const process = (globalThis as unknown as { process: { pid: number } })
  .process;

/** Binds `node:http` (or `node:https` with `cert` and `key`). */
export const listen: Listen = async (host, port, app, options) => {
  const toStderr = options.log !== false && typeof options.log !== "function";
  const stderr = toStderr ? await fdStderr() : null;
  const log = accessLogger(options, {
    stderr: () => stderr!,
    file: fileLog(await nodeAppend()),
    pid: process.pid,
  });
  const gate = gateFor(options.maxConcurrency);
  const leave = (): void => gate!.leave();
  // The time a request came is taken only when the log reads it.
  const timed = log?.timed === true;
  const waits = log?.waits === true;
  const metrics = options.metrics ?? null;
  const scheme = options.cert ? "https" : "http";
  let closing = false;
  const drain = new Drain();
  // "unix:/path": a unix socket; SERVER_NAME is its path, as in gunicorn.
  const unix = host.startsWith("unix:") ? host.slice(5) : null;
  // "fd://3": a listening socket inherited (systemd socket activation).
  const fd = /^fd:\/\/(\d+)$/.exec(host);
  let serverName = unix ?? host;
  let boundPort = unix === null ? port : 80;
  // Shared by every request: nothing below makes a closure per request on
  // the common path (an app that answers at once).
  const fail = (
    res: NodeResponse,
    error: unknown,
    facts: NodeFacts,
    counted = false,
  ): void => {
    logError(options.errors ?? consoleErrors, error);
    if (!res.destroyed) res.destroy();
    // Counted as the server's failure, so that in flight goes back down.
    if (!counted) metrics?.end(facts, 500, 0, false);
  };
  const logged = (
    facts: NodeFacts,
    peer: string,
    out: Outcome,
    sent: number | Sent,
    counted = false,
  ): void => {
    if (metrics !== null && !counted) {
      metrics.end(
        facts,
        out.code,
        typeof sent === "number" ? sent : sent.bytes,
        out.refused === true,
      );
    }
    if (typeof sent === "number") log?.(facts, out, peer, sent, true);
    else log?.(facts, out, peer, sent.bytes, sent.ok);
    // (The front closes idle connections itself: see Front.close.)
    if (closing && front === null && !drain.active) {
      server.closeIdleConnections();
    }
  };
  const respond = (
    res: NodeResponse,
    facts: NodeFacts,
    peer: string,
    out: Outcome,
  ): void => {
    let counted = false;
    try {
      if (out.more !== null) facts.hold();
      // A body sent at once is counted just before it is handed to the
      // socket: a worker's counters are then on their file (FlushedMetrics
      // writes as it counts) before a client can have read the answer, and
      // a kill -9 loses none of them (docs/observability.md).
      if (metrics !== null && out.more === null) {
        let n = 0;
        if (facts.method !== "HEAD") {
          for (const b of out.body) n += b.length;
        }
        metrics.end(facts, out.code, n, out.refused === true);
        counted = true;
      }
      if (closing) out.close = true;
      const bytes = send(res, out, facts.method === "HEAD");
      if (bytes instanceof Promise) {
        bytes.then(
          (n) => logged(facts, peer, out, n, counted),
          (e) => fail(res, e, facts, counted),
        );
      } else logged(facts, peer, out, bytes, counted);
    } catch (error) {
      fail(res, error, facts, counted);
    }
  };
  const limits = resolveLimits(options);
  // Node counts header fields but drops those past maxHeadersCount
  // silently: it keeps one more, and a request that has it gets 431.
  const maxFields = limits.maxHeaderCount;
  // Runs one request; returns what is still pending when the app could
  // not answer at once (a body to read, an async app), else undefined.
  const handle = (
    req: NodeRequest,
    res: NodeResponse,
    arrived: number,
  ): Promise<void> | undefined => {
    // A PROXY protocol v2 header may say the client spoke TLS to the proxy.
    const proxied =
      (req.socket as unknown as Record<symbol, ProxyInfo | undefined>)[
        PROXIED
      ];
    const facts = new NodeFacts(
      req,
      serverName,
      boundPort,
      proxied?.tls ? "https" : scheme,
    );
    facts.start = arrived;
    if (waits) facts.ran = -1;
    // The access log is written when the body ends, perhaps after the
    // socket is gone: the peer is asked for now.
    const peer = log ? facts.remoteAddr : "";
    if (metrics !== null) {
      metrics.begin(facts);
      // Its turn behind a pipelined request counts too, when timed.
      if (arrived > 0) facts.start = arrived;
    }
    if (gate !== null) {
      if (!gate.enter()) {
        // Over maxConcurrency: 503 at once, never queued.
        respond(res, facts, peer, overloaded(gate.max));
        return;
      }
      // "close" comes once the response has ended or the client has gone.
      res.once("close", leave);
    }
    if (maxFields > 0 && req.rawHeaders.length > 2 * maxFields) {
      respond(res, facts, peer, tooManyFields(maxFields));
      return;
    }
    const head = scanHead(facts.headers);
    if (head === BAD_HOST) {
      // RFC 9112 §3.2: the same 400 as from the fetch handler.
      respond(res, facts, peer, badHost(hostValue(facts.headers)));
      return;
    }
    let out: Outcome | Promise<Outcome>;
    try {
      out = serveFacts(app, facts, head === 0 ? null : req, options);
    } catch (error) {
      fail(res, error, facts);
      return;
    }
    // Answered at once when it can be: no Promise per request.
    if (out instanceof Promise) {
      return out.then(
        (o) => respond(res, facts, peer, o),
        (e) => fail(res, e, facts),
      );
    }
    respond(res, facts, peer, out);
  };
  // Node parses pipelined requests ahead and emits each at once: a request
  // behind one whose body is still being read would run its app first,
  // seeing the state from before the request ahead of it (RFC 9112 §9.3.2
  // allows that only for safe methods). So one app runs at a time per
  // connection, in order, as in wsgiref; responses were in order already.
  // A request that is answered at once leaves nothing behind.
  const busy = new WeakMap<object, Promise<void>>();
  const after = (socket: object, pending: Promise<void>): void => {
    busy.set(socket, pending);
    pending.then(() => {
      if (busy.get(socket) === pending) busy.delete(socket);
    });
  };
  const listener: RequestListener = (req, res) => {
    if (drain.active) drain.note();
    // Taken here, so that a request's wait includes its turn behind the
    // one ahead on its connection.
    const arrived = timed ? performance.now() : 0;
    const ahead = busy.get(req.socket);
    if (ahead !== undefined) {
      after(req.socket, ahead.then(() => handle(req, res, arrived)));
    } else {
      const pending = handle(req, res, arrived);
      if (pending !== undefined) after(req.socket, pending);
    }
  };
  const serverOptions = nodeServerOptions(limits);
  // Behind the front (fd://N, the PROXY protocol) the front runs the TLS
  // handshake itself (tls.ts says why): HTTP gets decrypted sockets.
  const fronted = fd !== null || !!options.proxyProtocol;
  const tls = options.cert && options.key
    ? { cert: options.cert, key: options.key }
    : null;
  const server = tls !== null && !fronted
    ? (await nodeModule<HttpsModule>("node:https")).createServer(
      { ...tls, ...serverOptions },
      listener,
    )
    : (await nodeModule<HttpModule>("node:http")).createServer(
      serverOptions,
      listener,
    );
  if (maxFields > 0) server.maxHeadersCount = maxFields + 1;
  if (metrics !== null) {
    countClientErrors(server as unknown as ClientErrorSource, metrics);
  }
  const net = await nodeModule<NetModule>("node:net");
  let front: Front | null = null;
  if (fronted) {
    front = await listenFront(
      server,
      fd !== null
        ? { fd: Number(fd[1]) }
        : unix === null
        ? { port, host, reusePort: options.reusePort }
        : { path: unix },
      {
        proxyProtocol: options.proxyProtocol,
        proxyAllowFrom: options.proxyAllowFrom,
        headerTimeout: limits.headersTimeout,
        keepAliveTimeout: limits.keepAliveTimeout,
        ...(tls !== null ? { tls } : {}),
        errors: options.errors ?? consoleErrors,
      },
    );
    serverName = front.hostname;
    boundPort = front.port;
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(
        unix === null
          ? { port, host, reusePort: options.reusePort }
          : { path: unix },
        resolve,
      );
    });
    const address = server.address();
    if (address && typeof address === "object") boundPort = address.port;
  }
  const backend = stoppableBackend(
    front === null ? host : serverName,
    boundPort,
    () =>
      new Promise<void>((resolve) => {
        closing = true;
        // close() stops accepting and resolves once every connection is
        // gone; idle keep-alive connections are closed now, busy ones when
        // their response ends (see `closing` above).
        if (front !== null) front.close(() => resolve());
        else {
          server.close(() => resolve());
          server.closeIdleConnections();
        }
      }),
    (maxMs) => {
      // Every response says Connection: close from now on; the socket
      // stops accepting at once (net.Server's close: http.Server's would
      // also close the idle connections, which the drain keeps).
      // (A front, for fd:// or the PROXY protocol, keeps accepting while
      // draining, as Deno and Bun do; its close() follows.)
      closing = true;
      if (front === null) net.Server.prototype.close.call(server);
      return drain.run(maxMs);
    },
  );
  return flushingBackend(backend, flushFdStderr);
};
