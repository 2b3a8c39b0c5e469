// `wsgi hello.py:app`, `wsgi --pythonpath ./src myproject.wsgi:application`:
// a Python module on the command line, served through Pyodide when it is
// installed (one line saying what to install when it is not).
import type { WSGIApplication } from "../core/types.ts";
import { type PyodideLike, pythonApp } from "../python/python_app.ts";
import type { CliHost } from "./_cli_host.ts";
import { UsageError } from "./_cli_args.ts";

/** The pyodide this project is tested with. */
const PYODIDE = "pyodide@0.29.3";

/**
 * Whether `MODULE[:NAME]` names Python: a `.py` file, or a dotted module
 * name (gunicorn's `myproject.wsgi`) with no such file but a `.py` for it
 * in the working directory or on `--pythonpath`.
 */
export function isPythonSpec(
  spec: string,
  host: CliHost,
  pythonpath: readonly string[],
): boolean {
  const colon = spec.lastIndexOf(":");
  const module = colon > 1 ? spec.slice(0, colon) : spec;
  if (module.endsWith(".py")) return true;
  if (!/^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*$/.test(module)) return false;
  const cwd = host.cwd();
  if (host.exists(`${cwd}/${module}`)) return false;
  const rel = module.replaceAll(".", "/");
  return [cwd, ...pythonpath.map((p) => p.startsWith("/") ? p : `${cwd}/${p}`)]
    .some((dir) =>
      host.exists(`${dir}/${rel}.py`) ||
      host.exists(`${dir}/${rel}/__init__.py`)
    ) || pythonpath.length > 0;
}

/** Loads Pyodide (seconds) and imports the Python application. */
export async function loadPythonApp(
  spec: string,
  host: CliHost,
  pythonpath: readonly string[],
): Promise<WSGIApplication> {
  let mod: { loadPyodide(options?: object): Promise<unknown> } | null = null;
  // A variable, not a literal: the library never depends on pyodide.
  const names = host.runtime === "deno"
    ? ["pyodide", `npm:${PYODIDE}`]
    : ["pyodide"];
  for (const name of names) {
    try {
      mod = await import(name);
      break;
    } catch {
      // Next way, or the hint below.
    }
  }
  if (mod === null) {
    throw new UsageError(
      `${JSON.stringify(spec)} is a Python application: install Pyodide ` +
        `to serve it (npm install ${PYODIDE})`,
    );
  }
  const pyodide = await mod.loadPyodide() as PyodideLike;
  try {
    return pythonApp(pyodide, spec, { path: [...pythonpath], cwd: host.cwd() });
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    const hint = /ModuleNotFoundError/.test(message)
      ? `\n(Pyodide sees the working directory and --pythonpath only: add ` +
        `the folder holding the package, such as a site-packages or ` +
        `/usr/lib/python3/dist-packages)`
      : "";
    throw new UsageError(
      `cannot import ${JSON.stringify(spec)} in Python: ${message.trimEnd()}` +
        hint,
    );
  }
}
