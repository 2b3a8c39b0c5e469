// What each runtime's shim (src/runtime/_deno.ts, _bun.ts, _node/server.ts) provides.
import type { WSGIApplication } from "../core/types.ts";
import type { ServerOptions } from "./types.ts";
import {
  accessLine,
  flushAccessLogs,
  type LineBatcher,
} from "../core/_access_log.ts";
import type { Outcome } from "../core/_response/outcome.ts";
import type { LoggedFacts } from "../core/_log_format.ts";
import { accessLogOptions } from "./_access_log_options.ts";
import { TRUST, type TrustedOptions } from "../core/_forwarded/proxy_trust.ts";
import { appendFile } from "./_log_files.ts";
import type { AppendOps } from "./_append_ops.ts";

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

/**
 * Writes one request's access-log record: the facts, the outcome (its
 * status and headers), the peer asked for before the runtime let the
 * request go, the body bytes sent, and whether the body ended well.
 * `timed`: the format reads the duration, so the shim notes
 * `facts.start` for each request.
 */
export interface AccessLog {
  (
    facts: LoggedFacts,
    out: Outcome,
    peer: string,
    bytes: number | null,
    complete: boolean,
  ): void;
  readonly timed: boolean;
  /** The format reads the wait before the app ran (`facts.ran = -1`). */
  readonly waits: boolean;
}

/** Where a shim's access log can go: its stderr, or an appended file. */
interface LogPlaces {
  /** The process-wide batcher on stderr. */
  stderr: () => LineBatcher;
  /** The process-wide batcher of an appended file (one per path). */
  file: (path: string) => LineBatcher;
  /** The process id, for the `p` atom and the JSON `process.pid`. */
  pid: number;
}

/**
 * The access logger chosen by the options, or null when silenced. The
 * default is wsgiref's line on stderr, through the shim's process-wide
 * batcher; `accessLog` picks gunicorn's format strings or JSON, and a
 * file; a function given as `log` gets one call per line, at once.
 */
export function accessLogger(
  options: ServerOptions,
  places: LogPlaces,
): AccessLog | null {
  const log = options.log;
  if (log === false) return null;
  const how = accessLogOptions(options.accessLog);
  const write: (line: string) => void = typeof log === "function"
    ? log
    : how.file === undefined || how.file === "-"
    ? lineWriter(places.stderr())
    : lineWriter(places.file(how.file));
  if (how.format === null) {
    // wsgiref's line: the default, kept on its own fast path.
    const plain = (
      facts: LoggedFacts,
      out: Outcome,
      peer: string,
      bytes: number | null,
      complete: boolean,
    ): void =>
      write(
        accessLine(
          peer,
          facts.method,
          facts.target,
          facts.protocol ?? "HTTP/1.1",
          out.code,
          bytes,
          complete,
        ),
      );
    return Object.assign(plain, { timed: false, waits: false });
  }
  const format = how.format;
  const pid = places.pid;
  const trust = (options as TrustedOptions)[TRUST];
  const formatted = (
    facts: LoggedFacts,
    out: Outcome,
    peer: string,
    bytes: number | null,
    complete: boolean,
  ): void => {
    const start = facts.start ?? 0;
    write(format({
      facts,
      peer,
      code: out.code,
      headers: out.headers,
      length: out.length,
      bytes,
      complete,
      seconds: start > 0 ? (performance.now() - start) / 1000 : 0,
      pid,
      trust,
    }));
  };
  return Object.assign(formatted, { timed: how.timed, waits: how.waits });
}

/** A shim's `LogPlaces.file`: the process's appended file at a path. */
export function fileLog(ops: AppendOps): (path: string) => LineBatcher {
  return (path) => appendFile(path, ops).lines;
}

const lineWriter = (batcher: LineBatcher) => (line: string): void =>
  batcher.line(line);

/**
 * Runs `shutdown`, then writes every access-log line still held: once
 * shutdown() resolves (and serveForever() with it), everything logged is
 * on stderr.
 */
export function flushingBackend(
  backend: Backend,
  stderr: () => void,
): Backend {
  // Log files too (accessLog.file): every batcher holding lines.
  const flush = (): void => {
    stderr();
    flushAccessLogs();
  };
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
