// Loading Pyodide for the python*.test.ts files: once per file (its cold
// start is seconds), or null with the reason when it is not installed.
import type { PyodideLike } from "../src/python/python_app.ts";

/** The interpreter, or why there is none. */
export async function loadTestPyodide(): Promise<
  { pyodide: PyodideLike; skip: false } | { pyodide: null; skip: string }
> {
  let mod: { loadPyodide(o?: object): Promise<unknown> };
  try {
    const name = "pyodide";
    mod = await import(name);
  } catch (error) {
    return {
      pyodide: null,
      skip: `pyodide is not installed (npm ci): ${(error as Error).message}`,
    };
  }
  const pyodide = await mod.loadPyodide() as PyodideLike;
  return { pyodide, skip: false };
}
