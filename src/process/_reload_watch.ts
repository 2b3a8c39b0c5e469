// `--reload`: a source file changed under the watched folder, so reload,
// once for an editor's several writes.
import type { ProcessHost } from "./_process_host.ts";

const SOURCE = /\.(?:[cm]?[jt]sx?|json|py)$/;

/** Calls `reload(why)` when a source file under `dir` changes; returns a stopper. */
export function watchSources(
  host: ProcessHost,
  dir: string,
  reload: (why: string) => void,
): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return host.watch(dir, (changed) => {
    // Deno names the file absolutely, Node and Bun relative to `dir`.
    const path = changed.startsWith(dir) ? changed.slice(dir.length) : changed;
    if (!SOURCE.test(path) || /(^|[\\/])(node_modules|\.)/.test(path)) {
      return;
    }
    // Editors write a file in several steps: one reload for them all.
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reload(`${path} changed`);
    }, 200);
  });
}
