// The static files' file system on Deno: Deno's own calls, null elsewhere
// (static.ts then takes node:fs, _static_fs_node.ts). Measured on Deno
// 2.9.6, its node:fs layer costs several times the native calls for what
// a static file needs (a 10 KiB file read into a Response: openAsBlob
// ~200 µs, readFileSync ~145 µs, Deno.readFileSync ~70 µs; statSync ~30
// µs), so Deno gets these; Node and Bun keep node:fs, where it is native.
//
// A small file is read whole into a Blob (one call); a large one is
// opened, sought and streamed, limited to the range, and closed when the
// stream ends or is cancelled.

import type { StaticFileInfo, StaticFileSystem } from "./static_fs.ts";

// The few Deno APIs used here, declared so that no Deno type package is
// needed to type-check this file (tsc, for the npm package).
interface DenoFileInfo {
  size: number;
  mtime: Date | null;
  isFile: boolean;
  isDirectory: boolean;
}
interface DenoFsFile {
  seek(offset: number, whence: number): Promise<number>;
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}
interface DenoGlobal {
  statSync(path: string): DenoFileInfo;
  realPathSync(path: string): string;
  readFileSync(path: string): Uint8Array;
  open(path: string): Promise<DenoFsFile>;
  errors: {
    NotFound: new () => Error;
    NotADirectory?: new () => Error;
    PermissionDenied: new () => Error;
  };
}

const Deno = (globalThis as unknown as { Deno?: DenoGlobal }).Deno;

type Info = StaticFileInfo;

/** Above this, a file is streamed rather than read whole. */
const READ_WHOLE_MAX = 256 * 1024;
const CHUNK = 64 * 1024;

function missing(error: unknown): boolean {
  if (Deno === undefined) return false;
  const e = Deno.errors;
  if (error instanceof e.NotFound || error instanceof e.PermissionDenied) {
    return true;
  }
  if (e.NotADirectory && error instanceof e.NotADirectory) return true;
  // ELOOP, ENAMETOOLONG: Deno raises them as plain errors with a code.
  const code = (error as { code?: string }).code;
  return code === "ELOOP" || code === "ENAMETOOLONG" || code === "ENOTDIR";
}

/** A stream of the bytes [start, end) of a file, closed at its end. */
function rangeStream(
  path: string,
  start: number,
  end: number,
): ReadableStream<Uint8Array> {
  let file: DenoFsFile | null = null;
  let pos = start;
  const close = () => {
    file?.close();
    file = null;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (file === null) {
          file = await Deno!.open(path);
          await file.seek(start, 0);
        }
        const buffer = new Uint8Array(Math.min(CHUNK, end - pos));
        const n = await file.read(buffer);
        if (n === null || n === 0) {
          close();
          controller.close();
          return;
        }
        pos += n;
        controller.enqueue(buffer.subarray(0, n));
        if (pos >= end) {
          close();
          controller.close();
        }
      } catch (error) {
        close();
        controller.error(error);
      }
    },
    cancel: close,
  });
}

/** Deno's calls as the static files' file system; null off Deno. */
export const denoFileSystem: StaticFileSystem | null = Deno === undefined
  ? null
  : {
    // deno-lint-ignore require-await
    async realPath(path: string): Promise<string | null> {
      try {
        return Deno.realPathSync(path);
      } catch (error) {
        if (missing(error)) return null;
        throw error;
      }
    },
    // deno-lint-ignore require-await
    async stat(path: string): Promise<Info | null> {
      try {
        const s = Deno.statSync(path);
        return {
          size: s.size,
          mtimeMs: s.mtime?.getTime() ?? 0,
          isFile: s.isFile,
          isDirectory: s.isDirectory,
        };
      } catch (error) {
        if (missing(error)) return null;
        throw error;
      }
    },
    // deno-lint-ignore require-await
    async open(
      path: string,
      info: Info,
      start: number,
      end: number,
    ): Promise<Blob | ReadableStream<Uint8Array>> {
      if (info.size > READ_WHOLE_MAX) return rangeStream(path, start, end);
      const bytes = Deno.readFileSync(path);
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>]);
      return start === 0 && end === blob.size ? blob : blob.slice(start, end);
    },
  };
