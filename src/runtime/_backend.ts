// What each runtime's shim (src/runtime/_deno.ts, _bun.ts, _node.ts) provides.
import type { WSGIApplication } from "../core/types.ts";
import type { ServerOptions } from "./types.ts";
import { accessLine, type LineBatcher } from "../core/_access_log.ts";

/** A listening runtime server. */
export interface Backend {
  /** The bound host. */
  hostname: string;
  /** The bound port. */
  port: number;
  /** Settles when the server has closed. */
  finished: Promise<void>;
  /** Graceful shutdown. */
  shutdown(): Promise<void>;
  /** Drains for up to `maxMs` (see _drain.ts); shutdown() follows. */
  drain(maxMs: number): Promise<void>;
}

/**
 * A backend whose shutdown() runs `stop` once (a second call gets the same
 * promise) and whose `finished` settles when `stop` has resolved.
 */
export function stoppableBackend(
  hostname: string,
  port: number,
  stop: () => Promise<void>,
  drain: (maxMs: number) => Promise<void>,
): Backend {
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let stopping: Promise<void> | null = null;
  return {
    hostname,
    port,
    finished,
    shutdown() {
      stopping ??= stop().then(done);
      return stopping;
    },
    drain,
  };
}

/** Binds and starts serving; rejects when it cannot bind. */
export type Listen = (
  host: string,
  port: number,
  app: WSGIApplication,
  options: ServerOptions,
) => Promise<Backend>;

/** Writes one access-log line (see {@linkcode accessLine}). */
export type AccessLog = (...fields: Parameters<typeof accessLine>) => void;

/**
 * The access logger chosen by the options, or null when silenced. The
 * default writes to `stderr`, the shim's process-wide batcher; a function
 * given as `log` gets one call per line, at once.
 */
export function accessLogger(
  options: ServerOptions,
  stderr: () => LineBatcher,
): AccessLog | null {
  const log = options.log;
  if (log === false) return null;
  if (typeof log === "function") {
    return (remoteAddr, method, target, protocol, code, bytes, complete) =>
      log(
        accessLine(remoteAddr, method, target, protocol, code, bytes, complete),
      );
  }
  const out = stderr();
  return (remoteAddr, method, target, protocol, code, bytes, complete) =>
    out.line(
      accessLine(remoteAddr, method, target, protocol, code, bytes, complete),
    );
}

/**
 * Runs `shutdown`, then writes every access-log line still held: once
 * shutdown() resolves (and serveForever() with it), everything logged is
 * on stderr.
 */
export function flushingBackend(
  backend: Backend,
  flush: () => void,
): Backend {
  const finished = backend.finished.then(flush, (error) => {
    flush();
    throw error;
  });
  return {
    hostname: backend.hostname,
    port: backend.port,
    finished,
    shutdown: () => backend.shutdown().finally(flush),
    drain: (maxMs) => backend.drain(maxMs),
  };
}
