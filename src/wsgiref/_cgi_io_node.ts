// runCgi()'s process streams on Node and Bun (see cgi_io.ts). The few
// node:process APIs used are declared here (no @types packages).
import type { CgiIO } from "./cgi_io.ts";

// An empty body: a script run by hand from a terminal has none to wait for.
const nothing: AsyncIterable<Uint8Array> = (async function* () {})();

interface NodeWritable {
  write(bytes: Uint8Array, callback: (error?: Error | null) => void): boolean;
  on(event: "error", listener: (error: Error) => void): unknown;
}

interface NodeProcess {
  env: Record<string, string | undefined>;
  stdin: AsyncIterable<Uint8Array> & { isTTY?: boolean };
  stdout: NodeWritable;
}

function streams(proc: NodeProcess): CgiIO {
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

/** Node's (and Bun's) environment, standard input and standard output. */
export async function nodeIO(): Promise<CgiIO> {
  // A variable specifier: no Node types are needed, and bundlers for
  // other runtimes do not pull the module in.
  const name = "node:process";
  const mod = await import(name) as { default?: NodeProcess };
  return streams(mod.default ?? mod as NodeProcess);
}
