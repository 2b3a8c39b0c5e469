/**
 * The options of `pythonApp` (`@wsgi/wsgi/python`).
 *
 * @module
 */

/**
 * Options of `pythonApp`: where the code is, and the process's view of
 * Python.
 *
 * @example Usage
 * ```ts
 * import type { PythonAppOptions } from "@wsgi/wsgi/python";
 * const options: PythonAppOptions = {
 *   path: ["./src", "/usr/lib/python3/dist-packages"],
 *   pycache: false,
 * };
 * ```
 */
export interface PythonAppOptions {
  /**
   * Folders or zip files put first on `sys.path`, in order: the app's
   * source, a virtualenv's `site-packages`, `/usr/lib/python3/dist-packages`
   * (gunicorn's `--pythonpath`). Relative to `cwd`.
   */
  path?: string[];
  /** Python's working directory, also first on `sys.path` (default: the process's). */
  cwd?: string;
  /** `os.environ` (default: the process's environment, `TZ` included). */
  env?: Record<string, string>;
  /**
   * Where `.pyc` files compiled by Pyodide's CPython are kept, so that the
   * next start imports without compiling (default
   * `$XDG_CACHE_HOME/wsgi/pyodide-VERSION`, else `~/.cache/wsgi/...`);
   * `false` for none.
   */
  pycache?: string | false;
}
