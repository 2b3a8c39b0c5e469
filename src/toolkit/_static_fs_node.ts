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
import type { StaticFileInfo, StaticFileSystem } from "./static_fs.ts";

// The few node:fs calls used here, declared: no Node types are needed to
// type-check the package (tsc, for npm).
interface NodeStats {
  size: number;
  mtimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
}
interface NodeFs {
  realpathSync: { native(path: string): string };
  statSync(
    path: string,
    options: { throwIfNoEntry: false },
  ): NodeStats | undefined;
  openAsBlob(path: string): Promise<Blob>;
}

let loaded: NodeFs | null = null;

/**
 * node:fs, loaded at the first request: a variable specifier keeps type
 * checkers and bundlers off it, so the toolkit also loads where there is
 * no node:fs (workerd), for an app that passes its own `fs`.
 */
async function nodeFs(): Promise<NodeFs> {
  const name = "node:fs";
  return loaded ??= await import(name) as NodeFs;
}

type Info = StaticFileInfo;

function missing(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP" ||
    code === "ENAMETOOLONG" || code === "EACCES";
}

/** node:fs as the static files' file system. */
export const nodeFileSystem: StaticFileSystem = {
  async realPath(path: string): Promise<string | null> {
    const fs = loaded ?? await nodeFs();
    try {
      return fs.realpathSync.native(path);
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  },
  async stat(path: string): Promise<Info | null> {
    const fs = loaded ?? await nodeFs();
    try {
      const s = fs.statSync(path, { throwIfNoEntry: false });
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
    const fs = loaded ?? await nodeFs();
    const blob = await fs.openAsBlob(path);
    return start === 0 && end === blob.size ? blob : blob.slice(start, end);
  },
};
