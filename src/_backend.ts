// What each runtime's shim (src/deno.ts, src/bun.ts, src/node.ts) provides.
import type { WSGIApplication } from "./types.ts";
import type { ServerOptions } from "./server.ts";
import { accessLine } from "./_access_log.ts";

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

/** The access logger chosen by the options, or null when silenced. */
export function accessLogger(options: ServerOptions): AccessLog | null {
  const log = options.log;
  if (log === false) return null;
  const write = typeof log === "function" ? log : console.error;
  return (remoteAddr, method, target, protocol, code, bytes, complete) =>
    write(
      accessLine(remoteAddr, method, target, protocol, code, bytes, complete),
    );
}
