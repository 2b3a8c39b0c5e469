// runCgi()'s process streams on Deno (see cgi_io.ts). The few Deno APIs
// used are declared here, so that no Deno types are needed.
import type { CgiIO } from "./cgi_io.ts";

// An empty body: a script run by hand from a terminal has none to wait for.
const nothing: AsyncIterable<Uint8Array> = (async function* () {})();

interface DenoLike {
  env: { toObject(): Record<string, string> };
  stdin: { readable: AsyncIterable<Uint8Array>; isTerminal(): boolean };
  stdout: { write(bytes: Uint8Array): Promise<number> };
}

/** Deno's environment, standard input and standard output. */
export function denoIO(global: unknown): CgiIO {
  const deno = global as DenoLike;
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
