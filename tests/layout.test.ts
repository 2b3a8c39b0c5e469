// The source tree's shape, checked: five layers whose imports run one way
// (type imports included), no import circle anywhere under src/, runtime
// code only in files named for their runtime, and every public symbol
// declared in a public file.
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
import { run } from "./_child.ts";
import { RUNTIME } from "./_util.ts";

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

// The files that may hold one runtime's code, named exactly: the public
// shims (runtime/deno.ts, bun.ts, node.ts), private files named for their
// runtime (`_deno.ts`, `_log_file_deno.ts`, `_static_fs_node.ts`...), and
// Node's shim folder (runtime/_node/); wsgiref's only for runCgi's process
// streams. Never in core/, which runs on every runtime and on the edge.
const RUNTIME_NAME = /^_?(?:[a-z0-9]+_)*(?:deno|bun|node)\.ts$/;
const PER_RUNTIME_LAYERS = [
  "runtime",
  "process",
  "python",
  "toolkit",
  "wsgiref",
];

function perRuntime(file: string): boolean {
  const parts = name(file).split("/");
  if (!PER_RUNTIME_LAYERS.includes(parts[1])) return false;
  if (parts[1] === "runtime" && parts[2] === "_node") return true;
  return RUNTIME_NAME.test(parts.at(-1)!);
}

/** The file's code: comments and (with `strings`) string literals out. */
function code(file: string, strings = false): string {
  let text = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:])\/\/.*$/gm, "$1");
  if (strings) {
    text = text.replace(
      /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g,
      '""',
    );
  }
  return text;
}

test("runtime globals and node: modules appear only in per-runtime files", () => {
  const wrong: string[] = [];
  for (const file of files) {
    if (perRuntime(file)) continue;
    const text = code(file);
    if (
      /\bDeno\.|\bBun\.|from\s+["']node:|import\s*\(\s*["']node:/.test(text)
    ) wrong.push(name(file));
  }
  assert.deepEqual(wrong, []);
});

test("core/ has no runtime file and names no runtime global at all", () => {
  const wrong: string[] = [];
  for (const file of files) {
    if (layerOf(file) !== "core") continue;
    const base = name(file).split("/").at(-1)!;
    if (RUNTIME_NAME.test(base) || name(file).includes("/_node/")) {
      wrong.push(`${name(file)}: named for a runtime`);
    }
    const used = code(file, true).match(
      /\b(?:Deno|Bun|process|require|globalThis)\b|["']node:/,
    );
    if (used) wrong.push(`${name(file)}: ${used[0]}`);
  }
  assert.deepEqual(wrong, []);
});

test("per-runtime files are named exactly (the names the checks exempt)", () => {
  // Every exempt file names its runtime; none is exempt by accident (a
  // name that merely ends in "node", such as forwarded "nodes").
  const exempt = files.filter(perRuntime).map(name);
  for (const file of exempt) {
    assert.match(file, /(deno|bun|node)\.ts$|\/runtime\/_node\//, file);
  }
  assert.ok(exempt.includes("src/runtime/_deno.ts"));
  assert.ok(exempt.includes("src/runtime/_node/server.ts"));
  assert.ok(!exempt.some((f) => f.startsWith("src/core/")));
});

const skipDoc = RUNTIME === "deno"
  ? false
  : "deno doc runs once, in the Deno suite";

test(
  "every public symbol is declared in a public file (not a _ file or folder)",
  {
    skip: skipDoc,
  },
  async () => {
    // What `deno doc` shows for each entry point in deno.json's "exports":
    // each symbol's declaration must live in a file a reader may open as
    // public API (JSR links to it), never under a `_` name.
    const config = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
    const entries = Object.values(config.exports) as string[];
    const result = await run(
      join(root, "node_modules/.bin/deno"),
      ["doc", "--json", ...entries],
      { cwd: root, timeout: 120_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as {
      nodes: Record<string, {
        symbols: {
          name: string;
          declarations: { location?: { filename: string } }[];
        }[];
      }>;
    };
    const wrong: string[] = [];
    let seen = 0;
    for (const [entry, module] of Object.entries(doc.nodes)) {
      for (const symbol of module.symbols) {
        for (const declaration of symbol.declarations) {
          const where = declaration.location?.filename;
          if (where === undefined) continue;
          seen++;
          const file = name(fileURLToPath(where));
          if (file.split("/").some((part) => part.startsWith("_"))) {
            wrong.push(
              `${symbol.name} (${name(fileURLToPath(entry))}): ${file}`,
            );
          }
        }
      }
    }
    assert.ok(seen > 100, `only ${seen} declarations found`);
    assert.deepEqual(wrong, []);
  },
);
