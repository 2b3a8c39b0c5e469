// The running process's environment, standard input and standard output
// for `runCgi()`: the one runtime-specific file behind it. Deno is told
// apart first (Deno 2 also defines `process`); Node and Bun both provide
// `node:process`. Each is reached by a dynamic import or a global lookup
// only when `runCgi()` is called without `io`, so the core still loads on
// the edge. The few types used are declared here (no @types packages).

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

interface DenoLike {
  env: { toObject(): Record<string, string> };
  stdin: { readable: AsyncIterable<Uint8Array>; isTerminal(): boolean };
  stdout: { write(bytes: Uint8Array): Promise<number> };
}

interface NodeWritable {
  write(bytes: Uint8Array, callback: (error?: Error | null) => void): boolean;
  on(event: "error", listener: (error: Error) => void): unknown;
}

interface NodeProcess {
  env: Record<string, string | undefined>;
  stdin: AsyncIterable<Uint8Array> & { isTTY?: boolean };
  stdout: NodeWritable;
}

const nothing: AsyncIterable<Uint8Array> = {
  [Symbol.asyncIterator]: () => ({
    next: () => Promise.resolve({ done: true, value: undefined }),
  }),
};

function denoIO(deno: DenoLike): CgiIO {
  return {
    env: deno.env.toObject(),
    // Run by hand from a terminal, a script has no body to wait for.
    stdin: {
      [Symbol.asyncIterator]: () =>
        (deno.stdin.isTerminal() ? nothing : deno.stdin.readable)
          [Symbol.asyncIterator](),
    },
    stdout: {
      // `write` may take only part of the bytes: loop until all are out.
      async write(bytes: Uint8Array): Promise<void> {
        let done = 0;
        while (done < bytes.length) {
          done += await deno.stdout.write(bytes.subarray(done));
        }
      },
    },
  };
}

function nodeIO(proc: NodeProcess): CgiIO {
  let listening = false;
  return {
    env: proc.env,
    // `process.stdin` is touched only when the body is read: opening it
    // for a request without one would be wasted work.
    stdin: {
      [Symbol.asyncIterator]: () =>
        (proc.stdin.isTTY ? nothing : proc.stdin)[Symbol.asyncIterator](),
    },
    stdout: {
      write(bytes: Uint8Array): Promise<void> {
        if (!listening) {
          // A closed pipe (EPIPE) is reported to the write callback, which
          // rejects; without a listener the stream's "error" event would
          // also crash the process.
          listening = true;
          proc.stdout.on("error", () => {});
        }
        return new Promise((resolve, reject) => {
          proc.stdout.write(
            bytes,
            (error) => error ? reject(error) : resolve(),
          );
        });
      },
    },
  };
}

/** The running process's CGI streams, on Deno, Node or Bun. */
export async function processIO(): Promise<CgiIO> {
  const g = globalThis as { Deno?: DenoLike; process?: unknown };
  if (g.Deno !== undefined) return denoIO(g.Deno);
  if (g.process !== undefined) {
    // A variable specifier, as in node.ts: no Node types are needed, and
    // bundlers for other runtimes do not pull the module in.
    const name = "node:process";
    const mod = await import(name) as { default?: NodeProcess };
    return nodeIO(mod.default ?? mod as NodeProcess);
  }
  throw new Error(
    "runCgi() found no process to read: it needs Deno, Node or Bun, or an explicit io option",
  );
}
