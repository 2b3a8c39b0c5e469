// Where the Python code comes from: host folders and zips mounted into
// Pyodide's file system at their own paths (tracebacks and __file__ show
// the real paths), sys.path, the working directory, os.environ and the
// .pyc cache, as a Python developer expects them.
import type { PyodideLike, PyProxy } from "./pyodide.ts";
import type { PythonAppOptions } from "./options.ts";
import {
  absolute,
  defaultPycache,
  kindOf,
  makeDir,
  parentOf,
  processCwd,
  processEnv,
} from "./_host_node.ts";

/** Mounts a host folder at its own path, unless Pyodide sees it already. */
function mount(py: PyodideLike, dir: string): void {
  if (dir === "/" || py.FS.analyzePath(dir).exists) return;
  py.mountNodeFS(dir, dir);
}

/**
 * Mounts what `spec` and `options` need and sets Python up; returns the
 * module (a dotted name or a .py path) and the callable's name.
 */
export function prepare(
  py: PyodideLike,
  spec: string,
  options: PythonAppOptions,
): [string, string] {
  const colon = spec.lastIndexOf(":");
  let module = colon === -1 ? spec : spec.slice(0, colon);
  const name = colon === -1 ? "application" : spec.slice(colon + 1);
  if (module === "" || name === "") {
    throw new TypeError(
      `pythonApp: ${JSON.stringify(spec)} is not "module:callable"`,
    );
  }
  const cwd = absolute(options.cwd ?? processCwd(), processCwd());
  if (kindOf(cwd) !== "dir") {
    throw new TypeError(
      `pythonApp: cwd ${JSON.stringify(cwd)} is not a folder`,
    );
  }
  const dirs = [cwd];
  const paths: string[] = [];
  for (const entry of options.path ?? []) {
    const path = absolute(entry, cwd);
    const kind = kindOf(path);
    if (kind === null) {
      throw new TypeError(
        `pythonApp: path entry ${JSON.stringify(entry)} does not exist`,
      );
    }
    // A zip is imported by zipimport from its folder's mount.
    dirs.push(kind === "dir" ? path : parentOf(path));
    paths.push(path);
  }
  if (module.endsWith(".py")) {
    module = absolute(module, cwd);
    if (kindOf(module) !== "file") {
      throw new TypeError(`pythonApp: no file ${JSON.stringify(module)}`);
    }
    dirs.push(parentOf(module));
  }
  let pycache: string | null = null;
  if (options.pycache !== false) {
    const dir = options.pycache ?? defaultPycache(py.version);
    if (makeDir(dir)) {
      pycache = absolute(dir, cwd);
      dirs.push(pycache);
    }
  }
  if (kindOf("/usr/share/zoneinfo") === "dir") dirs.push("/usr/share/zoneinfo");
  // Shorter paths first: a folder inside one already mounted is seen.
  for (const dir of [...new Set(dirs)].sort((a, b) => a.length - b.length)) {
    mount(py, dir);
  }
  const bridge = py.pyimport("_wsgi_bridge") as Record<string, PyProxy>;
  const setup = bridge.setup;
  setup(paths, cwd, options.env ?? processEnv(), pycache);
  setup.destroy();
  return [module, name];
}
