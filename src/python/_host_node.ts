// What the bridge asks of the host's file system before Pyodide mounts it.
// node:fs works on Node, Deno and Bun alike (Pyodide itself needs it on
// all three to load), so this one per-runtime file serves every runtime.
// process.getBuiltinModule is synchronous (pythonApp is) and keeps type
// checkers from needing Node's types; the few calls used are declared.

interface NodeFs {
  statSync(path: string): { isDirectory(): boolean };
  mkdirSync(path: string, options: { recursive: true }): unknown;
}
interface NodePath {
  resolve(...paths: string[]): string;
  dirname(path: string): string;
}
interface NodeProcess {
  env: Record<string, string | undefined>;
  cwd(): string;
  getBuiltinModule(name: string): unknown;
}

// Looked up at the first call, not at import: importing the module where
// there is no process (a bundle for the edge) must not fail.
let proc!: NodeProcess;
let fs!: NodeFs;
let path!: NodePath;
let os!: { homedir(): string };
function load(): void {
  if (proc !== undefined) return;
  proc = (globalThis as unknown as { process: NodeProcess }).process;
  fs = proc.getBuiltinModule("node:fs") as NodeFs;
  path = proc.getBuiltinModule("node:path") as NodePath;
  os = proc.getBuiltinModule("node:os") as { homedir(): string };
}

/** `"dir"`, `"file"`, or null when nothing is there. */
export function kindOf(file: string): "dir" | "file" | null {
  load();
  try {
    return fs.statSync(file).isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

/** Creates a directory and its parents; false when it cannot. */
export function makeDir(dir: string): boolean {
  load();
  try {
    fs.mkdirSync(dir, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/** An absolute path, relative ones taken from `base`. */
export function absolute(file: string, base: string): string {
  load();
  return path.resolve(base, file);
}

/** The folder holding `file`. */
export function parentOf(file: string): string {
  load();
  return path.dirname(file);
}

/** The process's working directory. */
export function processCwd(): string {
  load();
  return proc.cwd();
}

/** The process's environment, as strings. */
export function processEnv(): Record<string, string> {
  load();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(proc.env)) {
    if (typeof v === "string") out[k] = v;
  }
  return out;
}

/**
 * Where compiled `.pyc` files go: `$XDG_CACHE_HOME/wsgi/pyodide-VERSION`,
 * else `~/.cache/wsgi/pyodide-VERSION` (one CPython build, one cache).
 */
export function defaultPycache(version: string): string {
  load();
  const base = proc.env.XDG_CACHE_HOME ||
    path.resolve(os.homedir(), ".cache");
  return path.resolve(base, "wsgi", `pyodide-${version}`);
}
