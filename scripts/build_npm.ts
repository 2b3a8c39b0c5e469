/**
 * Builds the npm package into `npm/`, the way dnt would, with plain `tsc`.
 *
 * Why not dnt: `@deno/dnt` is published only on JSR, which this network
 * cannot reach (and it is not on npm), so the same job is done here with the
 * `typescript` package from node_modules (pinned in package.json):
 *
 * 1. empty `npm/`; stage the sources (mod.ts, every deno.json export, src/,
 *    no tests) in `.tmp/npm_build/{esm,script}/`, dropping the
 *    `// #region main` … `// #endregion main` blocks (`import.meta.main`,
 *    which CommonJS cannot have; the package has its own bin instead);
 * 2. type-check, then emit `npm/esm` (ES modules) and `npm/script`
 *    (CommonJS), each with `.d.ts` beside the `.js`;
 * 3. write `npm/package.json` from deno.json (one source of truth for the
 *    version and the entry points), the `wsgi` bin, README.md, docs/*.md
 *    (links to files the package lacks point at the repository) and LICENSE;
 * 4. check the result: npm `exports` keys equal deno.json's, every target
 *    exists, the published types need no Node, Deno or Bun types.
 *
 * Usage:
 *
 *   deno run -A scripts/build_npm.ts           build and check npm/
 *   deno run -A scripts/build_npm.ts --check   only check the built npm/
 *                                              (step 4)
 *
 * Publish with `cd npm && npm publish`.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const npmDir = join(root, "npm");
const stageDir = join(root, ".tmp", "npm_build");
const tsc = join(root, "node_modules", ".bin", "tsc");

const NPM_NAME = "wsgi";
// A placeholder until the project has a public repository.
const REPOSITORY = "https://github.com/wsgi-ts/wsgi";

/** The two outputs: their directory, and the package "type" that makes
 * tsc (module NodeNext) emit ES modules or CommonJS there. */
const FORMATS = [
  { dir: "esm", type: "module" },
  { dir: "script", type: "commonjs" },
] as const;

/** Raised for a failed step: printed without a stack. */
class BuildError extends Error {}

interface DenoConfig {
  name: string;
  version: string;
  license?: string;
  description?: string;
  exports: string | Record<string, string>;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

async function readDenoConfig(): Promise<DenoConfig> {
  const config = await readJson<DenoConfig>(join(root, "deno.json"));
  if (typeof config.version !== "string") {
    throw new BuildError('deno.json has no "version"');
  }
  return config;
}

/** deno.json's exports as a map, `{ "./cli": "./src/process/cli.ts", ... }`. */
function exportsOf(config: DenoConfig): Record<string, string> {
  const map = typeof config.exports === "string"
    ? { ".": config.exports }
    : config.exports;
  if (!map || Object.keys(map).length === 0) {
    throw new BuildError('deno.json has no "exports"');
  }
  for (const [key, path] of Object.entries(map)) {
    if (!/^\.\/.+\.ts$/.test(path)) {
      throw new BuildError(
        `deno.json export ${
          JSON.stringify(key)
        } must be a relative .ts path, got ${JSON.stringify(path)}`,
      );
    }
  }
  return map;
}

/** `./src/process/cli.ts` → `./esm/src/process/cli.js` (or `.d.ts`). */
function built(path: string, dir: string, ext: ".js" | ".d.ts"): string {
  return `./${dir}/${path.slice(2, -3)}${ext}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Runs tsc; its messages name the sources, not their staged copies. */
async function tscRun(args: string[]): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(tsc, {
    args: [...args, "--pretty", "false"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  // tsc names files relative to the working directory (the root).
  const staged = /\.tmp\/npm_build\/(?:esm|script)\//g;
  const text = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  if (text.trim()) console.error(text.replace(staged, "").trimEnd());
  if (code !== 0) throw new BuildError(`tsc ${args.join(" ")} failed`);
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

const isTest = (path: string): boolean =>
  /(?:^|[._/])test\.ts$|_test\.ts$|\.test\.ts$/.test(path);

/**
 * Drops `// #region main` … `// #endregion main` blocks, keeping line
 * numbers (so tsc's messages point at the right source line).
 */
function stripMain(text: string, path: string): string {
  const lines = text.split("\n");
  let open = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (/^\/\/ #region main\b/.test(line)) open = i;
    if (/^\/\/ #endregion main\b/.test(line)) {
      if (open === -1) {
        throw new BuildError(
          `${path}:${i + 1}: #endregion main without #region`,
        );
      }
      for (let j = open; j <= i; j++) lines[j] = "";
      open = -1;
    }
  }
  if (open !== -1) {
    throw new BuildError(`${path}:${open + 1}: #region main is never closed`);
  }
  return lines.join("\n");
}

/** The library's sources, relative to the root: entries, then src/. */
async function sources(entries: string[]): Promise<string[]> {
  const files = new Set(entries.map((path) => path.slice(2)));
  for await (const path of walk(join(root, "src"))) {
    const rel = relative(root, path);
    if (rel.endsWith(".ts") && !isTest(rel)) files.add(rel);
  }
  return [...files].sort();
}

function tsconfig(dir: string, entries: string[]): unknown {
  return {
    compilerOptions: {
      target: "ES2022",
      // NodeNext: each staged tree's package.json "type" picks ESM or
      // CommonJS, and CommonJS keeps dynamic import() (the CLI imports the
      // user's ES module; `require` could not).
      module: "NodeNext",
      moduleResolution: "NodeNext",
      // ESNext.Disposable: WSGIServer has [Symbol.asyncDispose].
      lib: ["ES2022", "DOM", "DOM.Iterable", "ESNext.Disposable"],
      // No @types at all: the sources declare the few runtime APIs they use.
      types: [],
      strict: true,
      isolatedModules: true,
      isolatedDeclarations: true,
      declaration: true,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      forceConsistentCasingInFileNames: true,
      noEmitOnError: true,
      newLine: "lf",
      rootDir: ".",
      outDir: join(npmDir, dir),
    },
    files: entries,
  };
}

async function stage(entries: string[]): Promise<void> {
  await Deno.remove(stageDir, { recursive: true }).catch(() => {});
  const files = await sources(entries);
  for (const { dir, type } of FORMATS) {
    const base = join(stageDir, dir);
    for (const rel of files) {
      const text = await Deno.readTextFile(join(root, rel));
      await Deno.mkdir(dirname(join(base, rel)), { recursive: true });
      await Deno.writeTextFile(join(base, rel), stripMain(text, rel));
    }
    await writeJson(join(base, "package.json"), { type });
    await writeJson(join(base, "tsconfig.json"), tsconfig(dir, entries));
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * tsc keeps `./x.ts` specifiers in declaration files; make them `./x.js`,
 * like the JavaScript beside them, so that every TypeScript version that
 * reads `exports` resolves them. The JSDoc examples import the JSR name
 * (`@wsgi/wsgi`); npm users' editors show them with the npm name.
 */
async function fixDeclarations(
  jsrName: string,
  npmName: string,
): Promise<void> {
  const specifier =
    /(\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(["'])(\.{1,2}\/[^"'\n]*?)\.ts\2/gm;
  const example = new RegExp(
    `(\\bfrom\\s+|\\bimport\\s*\\(\\s*)(["'])${
      jsrName.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
    }(?=["'/])`,
    "g",
  );
  for await (const path of walk(npmDir)) {
    if (!path.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(path);
    const fixed = text.replace(
      specifier,
      (_, lead, quote, stem) => `${lead}${quote}${stem}.js${quote}`,
    ).replace(example, (_, lead, quote) => `${lead}${quote}${npmName}`);
    if (fixed !== text) await Deno.writeTextFile(path, fixed);
  }
}

/** The first paragraph of mod.ts's module doc. */
async function moduleSummary(): Promise<string> {
  const text = await Deno.readTextFile(join(root, "mod.ts"));
  const doc = /^\/\*\*\n([\s\S]*?)\*\//.exec(text)?.[1] ?? "";
  const lines = doc.split("\n").map((line) => line.replace(/^\s*\* ?/, ""));
  const end = lines.findIndex((line) => line.trim() === "");
  const summary = lines.slice(0, end === -1 ? undefined : end).join(" ")
    .trim();
  if (!summary) throw new BuildError("mod.ts has no module doc to describe");
  return summary;
}

const BIN = "bin/wsgi.mjs";

function binScript(cliPath: string): string {
  return `#!/usr/bin/env node
// Generated by scripts/build_npm.ts: the \`wsgi\` command.
import { main } from "../${built(cliPath, "esm", ".js").slice(2)}";
process.exit(await main(process.argv.slice(2)));
`;
}

async function packageJson(
  config: DenoConfig,
  entries: Record<string, string>,
): Promise<Record<string, unknown>> {
  const exports: Record<string, unknown> = {};
  for (const [key, path] of Object.entries(entries)) {
    // Each condition gets its own types, so that a CommonJS consumer is
    // not handed ES module declarations (and the other way round).
    exports[key] = {
      import: {
        types: built(path, "esm", ".d.ts"),
        default: built(path, "esm", ".js"),
      },
      require: {
        types: built(path, "script", ".d.ts"),
        default: built(path, "script", ".js"),
      },
    };
  }
  const main = entries["."];
  if (!main) throw new BuildError('deno.json exports no "."');
  return {
    name: NPM_NAME,
    version: config.version,
    description: config.description ?? await moduleSummary(),
    keywords: ["wsgi", "pep3333", "wsgiref", "http", "server", "deno", "bun"],
    license: config.license ?? "MIT",
    homepage: `${REPOSITORY}#readme`,
    repository: { type: "git", url: `git+${REPOSITORY}.git` },
    bugs: { url: `${REPOSITORY}/issues` },
    main: built(main, "script", ".js"),
    module: built(main, "esm", ".js"),
    types: built(main, "script", ".d.ts"),
    exports,
    ...(entries["./cli"] ? { bin: { wsgi: BIN } } : {}),
    files: ["esm/", "script/", "docs/", ...(entries["./cli"] ? ["bin/"] : [])],
    sideEffects: false,
    engines: { node: ">=20" },
    // @wsgi/wsgi/python serves Python apps through the pyodide the user
    // installs; the library never imports it (zero dependencies).
    peerDependencies: { pyodide: "^0.29.3" },
    peerDependenciesMeta: { pyodide: { optional: true } },
  };
}

/**
 * Fails unless npm/package.json's `exports` keys are deno.json's, each
 * pointing at files that exist.
 */
async function checkExports(): Promise<void> {
  const entries = exportsOf(await readDenoConfig());
  const pkgPath = join(npmDir, "package.json");
  if (!await exists(pkgPath)) {
    throw new BuildError(`${relative(root, pkgPath)} is missing: build first`);
  }
  const pkg = await readJson<{ exports?: Record<string, unknown> }>(pkgPath);
  const want = Object.keys(entries).sort();
  const got = Object.keys(pkg.exports ?? {}).sort();
  if (want.join() !== got.join()) {
    throw new BuildError(
      `npm/package.json exports ${JSON.stringify(got)}, deno.json exports ${
        JSON.stringify(want)
      }`,
    );
  }
  const targets = (value: unknown): string[] =>
    typeof value === "string"
      ? [value]
      : Object.values(value ?? {}).flatMap(targets);
  for (const [key, value] of Object.entries(pkg.exports ?? {})) {
    for (const target of targets(value)) {
      if (!await exists(join(npmDir, target))) {
        throw new BuildError(
          `npm/package.json export ${JSON.stringify(key)} points at ${
            JSON.stringify(target)
          }: no such file`,
        );
      }
    }
  }
}

/** Fails if the published types need Node's, Deno's or Bun's types. */
async function checkDeclarations(): Promise<void> {
  const reference = /^\/\/\/\s*<reference\s+(?:types|lib)=.*$/m;
  const runtime =
    /^.*\b(?:from|import)\s*\(?\s*["'](?:node:|bun:|npm:|jsr:|https?:).*$/m;
  for await (const path of walk(npmDir)) {
    if (!path.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(path);
    // JSDoc examples import "node:assert/strict": only code counts.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
    const match = reference.exec(text) ?? runtime.exec(code);
    if (match) {
      throw new BuildError(
        `${relative(root, path)} needs runtime types: ${match[0].trim()}`,
      );
    }
  }
}

/** The docs pages the package carries beside README.md. */
async function docsPages(): Promise<string[]> {
  const pages: string[] = [];
  if (!(await exists(join(root, "docs")))) return pages;
  for await (const entry of Deno.readDir(join(root, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      pages.push(`docs/${entry.name}`);
    }
  }
  return pages.sort();
}

/**
 * Copies a markdown page (README.md or docs/*.md) into npm/. A relative
 * link to another packed page stays relative, so it resolves in
 * node_modules/wsgi and on the registry's page; a link to a file the
 * package does not carry (examples/, tests/, BENCHMARKS.md, an image)
 * points at the repository instead of at nothing.
 */
async function copyPage(page: string, packed?: Set<string>): Promise<void> {
  const inPackage = packed ?? new Set(["README.md", ...await docsPages()]);
  const text = await Deno.readTextFile(join(root, page));
  const absolute =
    (kind: string) =>
    (whole: string, lead: string, target: string, anchor = ""): string => {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return whole;
      const path = join(dirname(page), target).replaceAll("\\", "/");
      if (inPackage.has(path)) return whole;
      return `${lead}(${REPOSITORY}/${kind}/main/${path}${anchor})`;
    };
  // Images first (served raw), then links; an absolute target is kept.
  const linked = text
    .replace(/(!\[[^\]]*\])\(([^)\s#]+)(#[^)\s]*)?\)/g, absolute("raw"))
    .replace(/(\])\(([^)\s#]+)(#[^)\s]*)?\)/g, absolute("blob"));
  await Deno.mkdir(dirname(join(npmDir, page)), { recursive: true });
  await Deno.writeTextFile(join(npmDir, page), linked);
}

async function build(): Promise<void> {
  const config = await readDenoConfig();
  const entries = exportsOf(config);
  const entryFiles = Object.values(entries).map((path) => path.slice(2));

  console.log("[build_npm] Emptying npm/ and staging sources");
  await Deno.remove(npmDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(npmDir, { recursive: true });
  await stage(Object.values(entries));

  console.log(`[build_npm] Type checking ${entryFiles.join(", ")}`);
  await tscRun(["-p", relative(root, join(stageDir, "esm")), "--noEmit"]);

  for (const { dir, type } of FORMATS) {
    console.log(`[build_npm] Emitting ${type} into npm/${dir}`);
    await tscRun(["-p", relative(root, join(stageDir, dir))]);
    await writeJson(join(npmDir, dir, "package.json"), { type });
  }
  await fixDeclarations(config.name, NPM_NAME);

  console.log("[build_npm] Writing package.json, bin, README.md, LICENSE");
  await writeJson(
    join(npmDir, "package.json"),
    await packageJson(config, entries),
  );
  if (entries["./cli"]) {
    await Deno.mkdir(join(npmDir, "bin"), { recursive: true });
    await Deno.writeTextFile(join(npmDir, BIN), binScript(entries["./cli"]), {
      mode: 0o755,
    });
  }
  for (const name of ["README.md", "LICENSE"]) {
    if (await exists(join(root, name))) {
      if (name === "README.md") await copyPage(name);
      else await Deno.copyFile(join(root, name), join(npmDir, name));
    } else if (name === "LICENSE") {
      throw new BuildError("LICENSE is missing at the repository root");
    } else {
      console.warn(`[build_npm] warning: no ${name} to copy`);
    }
  }

  const pages = await docsPages();
  const packed = new Set(["README.md", ...pages]);
  for (const page of pages) await copyPage(page, packed);

  console.log("[build_npm] Checking exports and declarations");
  await checkExports();
  await checkDeclarations();
  await Deno.remove(stageDir, { recursive: true });
  console.log(`[build_npm] Complete: npm/ (wsgi@${config.version})`);
}

if (import.meta.main) {
  try {
    if (Deno.args.includes("--check")) {
      await checkExports();
      await checkDeclarations();
      console.log("[build_npm] npm/ matches deno.json's exports");
    } else {
      await build();
    }
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(`[build_npm] error: ${error.message}`);
    Deno.exit(1);
  }
}
