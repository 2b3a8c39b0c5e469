// The running process's environment, standard input and standard output
// for `runCgi()`. Deno is told apart first (Deno 2 also defines
// `process`); Node and Bun both provide `node:process`. Each runtime's
// streams live in its own file (_cgi_io_deno.ts, _cgi_io_node.ts), loaded
// by cgi.ts's dynamic import only when `runCgi()` is called without `io`,
// so the library still loads on the edge.

/**
 * The process a CGI script talks through: its environment, standard input
 * and standard output. `runCgi` finds the running process's own; pass
 * these to run it elsewhere or in tests. A `write` may return a Promise,
 * which is awaited. (`wsgi.errors` is `console.error`, which is standard
 * error on every runtime, unless `errors` is given.)
 *
 * @example Usage
 * ```ts
 * import type { CgiIO } from "@wsgi/wsgi";
 * const out: Uint8Array[] = [];
 * const io: CgiIO = {
 *   env: { REQUEST_METHOD: "GET", PATH_INFO: "/", SERVER_NAME: "localhost" },
 *   stdin: new Blob([]).stream(),
 *   stdout: { write: (bytes) => out.push(bytes) },
 * };
 * ```
 */
export interface CgiIO {
  /** The meta-variables, as the runtime shows the process environment. */
  env: Record<string, string | undefined>;
  /** The request body. */
  stdin: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
  /** Where the response goes. */
  stdout: { write(bytes: Uint8Array): unknown };
}
