// `--reload`'s file watching on Node and Bun: one non-recursive fs.watch
// per folder, added for folders that appear. Node's `recursive: true` on
// Linux (24.21, 20.20) stops reporting a file once an editor replaces it
// by a rename (a write to a temporary file, then a rename over the old):
// `sed -i` reloaded once, and later edits were never seen. A folder's own
// watch (inotify on the folder) reports every rename into it.

// The few node:fs APIs used here, declared so that no Node types are needed.
interface Watcher {
  close(): void;
  on(event: "error", listener: (error: Error) => void): void;
}
/** What watchTree needs of node:fs. */
export interface WatchFs {
  watch(
    dir: string,
    listener: (event: string, file: string | null) => void,
  ): Watcher;
  readdirSync(
    dir: string,
    options: { withFileTypes: true },
  ): { name: string; isDirectory(): boolean }[];
  statSync(path: string): { isDirectory(): boolean };
}

/** Folders never watched: dependencies and hidden ones (.git...). */
const SKIP = /^(?:node_modules|\..*)$/;

/**
 * Calls `onChange(path)` (relative to `dir`) for every change under `dir`;
 * returns a stopper.
 */
export function watchTree(
  fs: WatchFs,
  dir: string,
  onChange: (path: string) => void,
): () => void {
  const watchers = new Map<string, Watcher>();
  const add = (rel: string): void => {
    if (watchers.has(rel)) return;
    const abs = rel === "" ? dir : `${dir}/${rel}`;
    let watcher: Watcher;
    try {
      watcher = fs.watch(abs, (_event, file) => {
        const path = rel === "" ? file ?? "" : `${rel}/${file ?? ""}`;
        onChange(path);
        // A folder created or moved in gets its own watch.
        if (file !== null && !SKIP.test(file)) {
          try {
            if (fs.statSync(`${dir}/${path}`).isDirectory()) add(path);
          } catch {
            // Gone again (a rename away, a temporary file).
          }
        }
      });
    } catch {
      return; // Not readable, or gone.
    }
    // A watched folder removed: its watcher ends with an error.
    watcher.on("error", () => {
      watcher.close();
      watchers.delete(rel);
    });
    watchers.set(rel, watcher);
    try {
      for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
        if (entry.isDirectory() && !SKIP.test(entry.name)) {
          add(rel === "" ? entry.name : `${rel}/${entry.name}`);
        }
      }
    } catch {
      // Gone meanwhile.
    }
  };
  add("");
  return () => {
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}
