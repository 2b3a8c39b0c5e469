// The static files' default file system: node:fs, which Deno, Bun and Node
// all provide, so one small file serves the three runtimes. It is the only
// toolkit file that touches the disk (tests/layout.test.ts allows `node:`
// imports only in files named *node.ts); the HTTP logic in static.ts is
// runtime-free and takes any object of the same shape as its `fs` option
// (an in-memory map, a bundle, a KV store...).
//
// Node and Bun use it; Deno has its own (_static_fs_deno.ts), since its
// node:fs layer is several times slower than its native calls.
//
// A file's bytes go out as a Blob the runtime backs by the file:
// `fs.openAsBlob()` on Node (read lazily as the socket drains) and on Bun
// (a Bun.file(), which Bun.serve sends from the file).
//
// realpath and stat are the synchronous calls: a few microseconds on a
// local disk, where the promise versions cost a thread-pool round trip
// each, and a request makes up to six of them (measured: the 304 of a
// 10 KiB file cost about twice as much CPU with fs/promises).
import { openAsBlob, realpathSync, statSync } from "node:fs";

interface Info {
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

function missing(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP" ||
    code === "ENAMETOOLONG" || code === "EACCES";
}

/** node:fs as the static files' file system. */
export const nodeFileSystem = {
  // deno-lint-ignore require-await
  async realPath(path: string): Promise<string | null> {
    try {
      return realpathSync.native(path);
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  },
  // deno-lint-ignore require-await
  async stat(path: string): Promise<Info | null> {
    try {
      const s = statSync(path, { throwIfNoEntry: false });
      if (s === undefined) return null;
      return {
        size: s.size,
        mtimeMs: s.mtimeMs,
        isFile: s.isFile(),
        isDirectory: s.isDirectory(),
      };
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  },
  async open(
    path: string,
    _info: Info,
    start: number,
    end: number,
  ): Promise<Blob | ReadableStream<Uint8Array>> {
    const blob = await openAsBlob(path);
    return start === 0 && end === blob.size ? blob : blob.slice(start, end);
  },
};
