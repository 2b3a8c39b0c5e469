// The few parts of Pyodide's API the bridge uses, typed structurally: the
// library never imports pyodide (an optional peer dependency), the user
// loads it and passes it in.

/** A Python object seen from JavaScript (Pyodide's `PyProxy`). */
export interface PyProxy {
  /** Calls a Python callable. */
  (...args: unknown[]): unknown;
  /** Releases the JavaScript side's reference. */
  destroy(): void;
  /** Converts to JavaScript (`depth` levels deep). */
  toJs(options?: { depth?: number }): unknown;
}

/**
 * A loaded Pyodide interpreter (what `loadPyodide()` resolves with), as far
 * as `pythonApp` uses it: Pyodide's own `PyodideAPI` fits it.
 *
 * @example Usage
 * ```ts ignore
 * import { loadPyodide } from "pyodide";
 * import type { PyodideLike } from "@wsgi/wsgi/python";
 * const pyodide: PyodideLike = await loadPyodide();
 * ```
 */
export interface PyodideLike {
  /** Pyodide's version, such as `"0.29.3"`. */
  readonly version: string;
  /** Runs Python code; returns its last expression's value. */
  runPython(code: string, options?: { globals?: unknown }): unknown;
  /** Imports a Python module and returns it. */
  pyimport(name: string): unknown;
  /** Pyodide's Emscripten file system (whether a path exists). */
  readonly FS: { analyzePath(path: string): { exists: boolean } };
  /** Mounts a host directory (Node, Deno and Bun). */
  mountNodeFS(emscriptenPath: string, hostPath: string): void;
}
