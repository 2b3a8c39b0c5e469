// What the bridge asks of the host's file system before Pyodide mounts it.
// node:fs works on Node, Deno and Bun alike (Pyodide itself needs it on
// all three to load), so this one per-runtime file serves every runtime.
import { mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import process from "node:process";

/** `"dir"`, `"file"`, or null when nothing is there. */
export function kindOf(path: string): "dir" | "file" | null {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

/** Creates a directory and its parents; false when it cannot. */
export function makeDir(path: string): boolean {
  try {
    mkdirSync(path, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/** An absolute path, relative ones taken from `base`. */
export function absolute(path: string, base: string): string {
  return resolve(base, path);
}

/** The folder holding `path`. */
export function parentOf(path: string): string {
  return dirname(path);
}

/** The process's working directory. */
export function processCwd(): string {
  return process.cwd();
}

/** The process's environment, as strings. */
export function processEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (typeof v === "string") out[k] = v;
  }
  return out;
}

/**
 * Where compiled `.pyc` files go: `$XDG_CACHE_HOME/wsgi/pyodide-VERSION`,
 * else `~/.cache/wsgi/pyodide-VERSION` (one CPython build, one cache).
 */
export function defaultPycache(version: string): string {
  const base = process.env.XDG_CACHE_HOME || resolve(homedir(), ".cache");
  return resolve(base, "wsgi", `pyodide-${version}`);
}
