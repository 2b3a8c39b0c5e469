// The source tree's shape, checked: five layers whose imports run one way
// (type imports included), and no import circle anywhere under src/.
//
//   src/core/     WSGI on Web Request/Response; no runtime code
//   src/wsgiref/  wsgiref's other pieces (util, headers, validate, cgi...)
//   src/runtime/  makeServer and the Deno, Bun and Node shims
//   src/python/   pythonApp: Python WSGI apps through Pyodide
//   src/process/  the command line, the supervisor and its workers
//   src/toolkit/  werkzeug's pieces: request, response, routing, mounting
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

const files = walk(src);
const imports = new Map<string, string[]>();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const deps = new Set<string>();
  // Static, type-only and dynamic imports and re-exports alike.
  for (
    const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)
  ) {
    deps.add(resolve(dirname(file), m[1]));
  }
  imports.set(file, [...deps]);
}
const name = (file: string) => relative(root, file).replaceAll("\\", "/");
const layerOf = (file: string) => name(file).split("/")[1];

// What each layer may import, besides itself.
const allowed: Record<string, string[]> = {
  core: [],
  wsgiref: ["core"],
  runtime: ["core"],
  python: ["core", "wsgiref"],
  process: ["core", "wsgiref", "runtime", "python"],
  toolkit: ["core", "wsgiref"],
};

test("src/ has only the layer folders", () => {
  const entries = readdirSync(src).sort();
  assert.deepEqual(entries, Object.keys(allowed).sort());
});

test("imports run down the layers: core, then wsgiref and runtime, then process", () => {
  const wrong: string[] = [];
  for (const [file, deps] of imports) {
    const from = layerOf(file);
    for (const dep of deps) {
      const to = layerOf(dep);
      if (to !== from && !allowed[from]?.includes(to)) {
        wrong.push(`${name(file)} -> ${name(dep)}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test("no import circle under src/, type imports included", () => {
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, "open");
    for (const dep of imports.get(file) ?? []) {
      if (state.get(dep) === "open") {
        circles.push(
          [...path.slice(path.indexOf(dep)), dep].map(name).join(" -> "),
        );
      } else if (!state.has(dep) && imports.has(dep)) {
        visit(dep, [...path, dep]);
      }
    }
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file, [file]);
  assert.deepEqual(circles, []);
});

test("runtime globals and node: modules appear only in per-runtime files", () => {
  const wrong: string[] = [];
  for (const file of files) {
    const base = name(file).split("/").at(-1)!;
    if (/(deno|bun|node)\.ts$/.test(base) || name(file).includes("/_node/")) {
      continue;
    }
    const text = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
    if (/\bDeno\.|\bBun\.|from\s+["']node:/.test(text)) wrong.push(name(file));
  }
  assert.deepEqual(wrong, []);
});
