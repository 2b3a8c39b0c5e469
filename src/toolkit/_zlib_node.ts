// The compression middleware's encoder: node:zlib, which Deno, Bun and Node
// all provide, flushed after every chunk. Measured (Node 24.21, Deno 2.9.6,
// Bun 1.4.5), the Web's CompressionStream does not fit a streamed
// response on two of the three: on Node and Bun a chunk written comes out
// only when more data fills zlib's buffer or the stream closes (it has no
// flush), and its "brotli" runs at quality 11: ~190 ms for 159 KB of HTML,
// against ~1 ms for gzip. node:zlib can flush each chunk (Z_SYNC_FLUSH,
// BROTLI_OPERATION_FLUSH) and set brotli's quality, and ships on Node 20
// too, where CompressionStream has no brotli at all.

// The few node:zlib names used here, declared: no Node types are needed
// to type-check the package (tsc, for npm).
interface ZlibStream {
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "error", listener: (error: unknown) => void): void;
  once(event: "end", listener: () => void): void;
  once(event: "error", listener: (error: unknown) => void): void;
  write(chunk: Uint8Array): void;
  flush(kind: number, callback: () => void): void;
  end(): void;
  destroy(): void;
}
interface NodeZlib {
  constants: {
    BROTLI_PARAM_QUALITY: number;
    BROTLI_OPERATION_FLUSH: number;
    Z_SYNC_FLUSH: number;
  };
  createBrotliCompress(options: { params: Record<number, number> }): ZlibStream;
  createGzip(): ZlibStream;
  createDeflate(): ZlibStream;
}

let loaded: NodeZlib | null = null;

/** node:zlib, loaded at the first encoding (a variable specifier keeps
 * type checkers and bundlers off it, as for node:fs). */
async function nodeZlib(): Promise<NodeZlib> {
  const name = "node:zlib";
  return loaded ??= await import(name) as NodeZlib;
}

/** A streaming encoder: each write comes back flushed, decodable so far. */
export interface Encoder {
  write(chunk: Uint8Array): Promise<Uint8Array[]>;
  end(): Promise<Uint8Array[]>;
  destroy(): void;
}

/** The codings this encoder speaks, most preferred first. */
export const CODINGS: readonly string[] = ["br", "gzip", "deflate"];

/** A new encoder for `coding` (one of {@linkcode CODINGS}). */
export async function encoder(coding: string): Promise<Encoder> {
  const { constants, createBrotliCompress, createDeflate, createGzip } =
    loaded ?? await nodeZlib();
  const z = coding === "br"
    ? createBrotliCompress({
      // Quality 4: near gzip's cost for a better ratio; 11 is for files
      // compressed once, ahead of time (the static files' .br siblings).
      params: { [constants.BROTLI_PARAM_QUALITY]: 4 },
    })
    : coding === "gzip"
    ? createGzip()
    : createDeflate();
  const kind = coding === "br"
    ? constants.BROTLI_OPERATION_FLUSH
    : constants.Z_SYNC_FLUSH;
  let out: Uint8Array[] = [];
  let failure: unknown = null;
  let pending: (() => void) | null = null;
  z.on("data", (chunk: Uint8Array) => {
    out.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  z.on("error", (error: unknown) => {
    failure = error;
  });
  const take = (): Uint8Array[] => {
    if (failure !== null) throw failure;
    const chunks = out;
    out = [];
    return chunks;
  };
  return {
    write(chunk) {
      return new Promise((resolve, reject) => {
        // A write in flight when destroy() comes ends empty, not never.
        pending = () => resolve([]);
        z.write(chunk);
        z.flush(kind, () => {
          pending = null;
          try {
            resolve(take());
          } catch (error) {
            reject(error);
          }
        });
      });
    },
    end() {
      return new Promise((resolve, reject) => {
        z.once("end", () => {
          try {
            resolve(take());
          } catch (error) {
            reject(error);
          }
        });
        z.once("error", reject);
        z.end();
      });
    },
    destroy() {
      z.destroy();
      pending?.();
      pending = null;
    },
  };
}
