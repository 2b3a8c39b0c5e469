// Node's (and Bun's) calls for an appended log file (see _log_files.ts):
// `fs.openSync(path, "a")` (O_APPEND) and `fs.writeSync`.
import { flushAccessLogs } from "../core/_access_log.ts";
import type { AppendOps } from "./_append_ops.ts";

interface NodeFs {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, data: string | Uint8Array): number;
  closeSync(fd: number): void;
}
interface NodeProcess {
  on(event: "exit", listener: () => void): void;
}

let ops: AppendOps | null = null;

/** The file calls, made once (node:fs is imported on first use). */
export async function nodeAppend(): Promise<AppendOps> {
  if (ops !== null) return ops;
  // A variable specifier keeps type checkers and bundlers off node:fs.
  const name = "node:fs";
  const fs = await import(name) as NodeFs;
  const encoder = new TextEncoder();
  // Whatever is held is written at exit (not at a signal: the library
  // installs no signal handler).
  (globalThis as unknown as { process: NodeProcess }).process.on(
    "exit",
    () => flushAccessLogs(),
  );
  return ops ??= {
    open: (path) => fs.openSync(path, "a"),
    write(handle, text, bytes) {
      const fd = handle as number;
      const written = fs.writeSync(fd, text);
      if (written >= bytes) return;
      // A short write (a full disk, an interrupt): the rest, as bytes.
      const rest = encoder.encode(text);
      for (let at = written; at < rest.length;) {
        at += fs.writeSync(fd, rest.subarray(at));
      }
    },
    close: (handle) => fs.closeSync(handle as number),
  };
}
