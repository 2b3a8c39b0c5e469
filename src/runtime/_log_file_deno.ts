// Deno's calls for an appended log file (see _log_files.ts).
import { flushAccessLogs as flushAll } from "../core/_access_log.ts";
import type { AppendOps } from "./_append_ops.ts";

interface DenoFile {
  writeSync(data: Uint8Array): number;
  close(): void;
}
const Deno = (globalThis as unknown as {
  Deno: {
    openSync(
      path: string,
      options: { append: true; create: true },
    ): DenoFile;
  };
}).Deno;

const encoder = new TextEncoder();
let exitHooked = false;

/** `Deno.openSync(path, { append, create })` and `writeSync`. */
export const denoAppend: AppendOps = {
  open(path) {
    if (!exitHooked) {
      // Whatever is held is written at a normal exit and Deno.exit().
      exitHooked = true;
      (globalThis as unknown as EventTarget).addEventListener(
        "unload",
        () => flushAll(),
      );
    }
    return Deno.openSync(path, { append: true, create: true });
  },
  write(handle, text) {
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length;) {
      at += (handle as DenoFile).writeSync(bytes.subarray(at));
    }
  },
  close(handle) {
    (handle as DenoFile).close();
  },
};
