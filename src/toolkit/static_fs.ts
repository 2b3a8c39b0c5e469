/**
 * The file system the static files read ({@linkcode StaticFileSystem}):
 * its own file so that the per-runtime implementations
 * (`_static_fs_node.ts`, `_static_fs_deno.ts`) and static.ts share the
 * type without an import circle.
 *
 * @module
 */

/**
 * What {@linkcode StaticFileSystem.stat} tells of a path.
 *
 * @example Usage
 * ```ts
 * import type { StaticFileInfo } from "@wsgi/wsgi/toolkit";
 * const info: StaticFileInfo = {
 *   size: 5, mtimeMs: 0, isFile: true, isDirectory: false,
 * };
 * ```
 */
export interface StaticFileInfo {
  /** Size in bytes. */
  size: number;
  /** Last modification, milliseconds since the epoch (0: unknown). */
  mtimeMs: number;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
}

/**
 * The file system the static files read: node:fs by default; pass your
 * own to serve from memory, a bundle or a store. Paths are joined with
 * `/` under the root you give.
 *
 * @example An in-memory file system
 * ```ts
 * import { serveStatic, type StaticFileSystem } from "@wsgi/wsgi/toolkit";
 * const files: Record<string, string> = { "/site/hello.txt": "hello" };
 * const memory: StaticFileSystem = {
 *   realPath: (p) => Promise.resolve(p === "/site" || p in files ? p : null),
 *   stat: (p) =>
 *     Promise.resolve(
 *       p === "/site"
 *         ? { size: 0, mtimeMs: 0, isFile: false, isDirectory: true }
 *         : p in files
 *         ? { size: files[p].length, mtimeMs: 0, isFile: true, isDirectory: false }
 *         : null,
 *     ),
 *   open: (p, _info, start, end) =>
 *     Promise.resolve(new Blob([files[p]]).slice(start, end)),
 * };
 * const app = serveStatic("/site", { fs: memory });
 * ```
 */
export interface StaticFileSystem {
  /** The path with every symlink resolved, or null when it does not exist. */
  realPath(path: string): Promise<string | null>;
  /** What the path is, or null when it does not exist. */
  stat(path: string): Promise<StaticFileInfo | null>;
  /** The bytes `[start, end)` of a file, as a Blob or a stream. */
  open(
    path: string,
    info: StaticFileInfo,
    start: number,
    end: number,
  ): Promise<Blob | ReadableStream<Uint8Array>>;
}
