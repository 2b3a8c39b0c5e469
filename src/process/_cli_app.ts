// The application named on the command line: `MODULE[:NAME]` imported,
// with a hint for what went wrong where one can be given.
import type { WSGIApplication } from "../core/types.ts";
import type { CliHost } from "./_cli_host.ts";
import { UsageError } from "./_cli_args.ts";
import { isPythonSpec, loadPythonApp } from "./_cli_python.ts";

function toUrl(path: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) {
    return path;
  }
  const abs = path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
  return "file://" + abs.split("/").map(encodeURIComponent).join("/");
}

const SCRIPT_EXTENSIONS = [".ts", ".js", ".mts", ".mjs", ".tsx", ".jsx"];

/** Why `path` did not import, with what to do where we can tell. */
function importHint(path: string, error: unknown, host: CliHost): string {
  const why = error instanceof Error ? error.message.split("\n")[0] : error;
  const abs = path.startsWith("/") ? path : `${host.cwd()}/${path}`;
  const base = path.slice(path.lastIndexOf("/") + 1);
  // gunicorn's habit: `wsgi api:app` for api.py; here the file is api.ts.
  if (!base.includes(".") && !host.exists(abs)) {
    const found = SCRIPT_EXTENSIONS.filter((ext) => host.exists(abs + ext));
    if (found.length > 0) {
      return `no module ${JSON.stringify(path)}; did you mean ${
        found.map((ext) => JSON.stringify(path + ext)).join(" or ")
      }? (the file name with its extension)`;
    }
  }
  const code = (error as { code?: string }).code;
  if (
    host.runtime === "node" && /\.[cm]?tsx?$/.test(path) &&
    (code === "ERR_UNKNOWN_FILE_EXTENSION" || !nodeRunsTypeScript(host.version))
  ) {
    return `Node ${host.version} does not run TypeScript: use Node 22.6+ ` +
      `(with --experimental-strip-types before 23.6), or compile it to ` +
      `JavaScript (npx -p typescript tsc) and serve the .js file`;
  }
  return String(why);
}

/** Node 22.6 is the first that can strip types (behind a flag until 23.6). */
function nodeRunsTypeScript(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 6);
}

/** Imports `MODULE[:NAME]` and returns NAME (default: the default export). */
export async function loadApp(
  spec: string,
  host: CliHost,
  pythonpath: readonly string[] = [],
): Promise<WSGIApplication> {
  if (isPythonSpec(spec, host, pythonpath)) {
    return await loadPythonApp(spec, host, pythonpath);
  }
  // MODULE:NAME, but a Windows drive letter or URL scheme is not a NAME.
  const colon = spec.lastIndexOf(":");
  const hasName = colon > 1 && !spec.slice(colon + 1).includes("/");
  const path = hasName ? spec.slice(0, colon) : spec;
  const name = hasName ? spec.slice(colon + 1) : "default";
  let mod: Record<string, unknown>;
  try {
    mod = await import(toUrl(path, host.cwd()));
  } catch (error) {
    throw new UsageError(
      `cannot import ${JSON.stringify(path)}: ${importHint(path, error, host)}`,
    );
  }
  const app = mod[name];
  if (typeof app !== "function") {
    throw new UsageError(
      `${JSON.stringify(path)} has no ${
        name === "default" ? "default export" : `export ${JSON.stringify(name)}`
      } that is a function (found ${typeof app})`,
    );
  }
  return app as WSGIApplication;
}
