// The npm package as a user gets it, by README.md's route from a clone:
// `npm run build` (scripts/build_npm.ts), `npm pack` in npm/, install the
// tarball into a fresh `npm init -y` project in the system's temp directory,
// then use it by name: `import` and `require` on the machine's Node (20 here
// and in CI) and on Node 24, the `wsgi` bin, a strict TypeScript consumer
// (.mts and .cts) with no runtime types, and Bun. Then README's newcomer
// routes: `node main.ts` (type module, .mts), Node 20 compiling with tsc,
// `bun add` of the tarball, and Deno through an import map to mod.ts.
//
//   node --test tests_npm/package.test.mjs      (or: npm test -- npm)
//
// JavaScript with only top-level test()s, so the suite's counts are the
// tests below. It runs on the toolchain's Node 24 (npm test), which also
// loads the shared child-process helper tests/_child.ts; the machine's Node
// (20 in CI) is what it tests. No network: the package has no
// dependencies, so the install is --offline.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { run as runChild, startChild } from "../tests/_child.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);

const denoJson = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const entries = typeof denoJson.exports === "string"
  ? { ".": denoJson.exports }
  : denoJson.exports;
// The bin exists only once deno.json exports the command line.
const hasCli = "./cli" in entries;
const NO_CLI = 'deno.json does not export "./cli" yet';

/** The machine's Node: the one running npm, else the first on PATH. */
function machineNode() {
  if (process.env.npm_node_execpath) return process.env.npm_node_execpath;
  const local = resolve(root, "node_modules", ".bin");
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir || resolve(dir) === local) continue;
    if (resolve(dir).includes(`${sep}node_modules${sep}.bin`)) continue;
    if (existsSync(join(dir, "node"))) return join(dir, "node");
  }
  return "/usr/bin/node";
}

const version = (node) =>
  execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
const nodes = [machineNode(), bin("node")].map((path) => ({
  path,
  name: `Node ${version(path)}`,
}));

/** Runs a command to its end (killed after `timeout` ms), in the root. */
function run(
  cmd,
  args,
  { cwd = root, env = process.env, timeout = 60_000 } = {},
) {
  return runChild(cmd, args, { cwd, env, timeout });
}

/** Fails with the command's output unless it exited 0. */
function assertOk(result, what) {
  assert.equal(
    result.code,
    0,
    `${what} exited with ${result.code ?? result.signal}\n` +
      `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
  );
}

// npm's own variables (npm test sets many, such as npm_config_local_prefix)
// must not steer the npm runs below toward this repository.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
);

const work = mkdtempSync(join(tmpdir(), "wsgi-npm-"));
const project = join(work, "project");
let tarball = null;
after(() => {
  rmSync(work, { recursive: true, force: true });
  // `npm pack` wrote it into npm/, as README has the user do.
  if (tarball) rmSync(tarball, { force: true });
});

const readme = readFileSync(join(root, "README.md"), "utf8");
/** Fails unless README.md has this command (so README and test agree). */
function inReadme(command) {
  assert.ok(readme.includes(command), `README.md lost: ${command}`);
}
/** Fails unless the docs page (under docs/) has this text. */
function inDocs(page, text) {
  const doc = readFileSync(join(root, "docs", page), "utf8");
  assert.ok(doc.includes(text), `docs/${page} lost: ${text}`);
}

let installing;
/** Builds, packs and installs once; every test awaits it. */
function install() {
  installing ??= (async () => {
    inReadme("npm run build");
    inReadme("cd npm && npm pack");
    const build = await run("npm", ["run", "build"], {
      env: cleanEnv,
      timeout: 180_000,
    });
    assertOk(build, "npm run build");
    // --json only adds the listing of what was packed.
    const pack = await run("npm", ["pack", "--json"], {
      cwd: join(root, "npm"),
      env: cleanEnv,
    });
    assertOk(pack, "npm pack");
    const [{ filename, files }] = JSON.parse(pack.stdout);
    tarball = join(root, "npm", filename);
    await npmProject(project);
    return { files: files.map((file) => file.path) };
  })();
  return installing;
}

/**
 * A project as README.md has a newcomer make one: `npm init -y`, then
 * `npm install ../wsgi/npm/wsgi-*.tgz` (--offline: no network here).
 */
async function npmProject(dir) {
  mkdirSync(dir, { recursive: true });
  assertOk(
    await run("npm", ["init", "-y"], { cwd: dir, env: cleanEnv }),
    "npm init -y",
  );
  inReadme("npm install ../wsgi/npm/wsgi-*.tgz");
  const add = await run(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", tarball],
    { cwd: dir, env: cleanEnv },
  );
  assertOk(add, "npm install <tarball>");
}

const APP = `
function app(environ, startResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode("¡Hola, mundo!")];
}`;

// Loads every entry point, then serves the tutorial's app once.
const SERVE = `
${APP}
for (const [key, mod] of Object.entries(entries)) {
  assert.ok(Object.keys(mod).length > 0, \`wsgi\${key.slice(1)} exports nothing\`);
}
const server = wsgi.makeServer("127.0.0.1", 0, app);
await server.ready;
assert.equal(server.url, \`http://127.0.0.1:\${server.serverPort}/\`);
assert.notEqual(server.serverPort, 0);
const response = await fetch(server.url);
assert.equal(response.status, 200);
assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
const body = await response.text();
await server.shutdown();
console.log("body:", body);
`;
const specifiers = Object.keys(entries).map((key) => `wsgi${key.slice(1)}`);

const ESM = `import assert from "node:assert/strict";
import * as wsgi from "wsgi";
const entries = {
${
  specifiers.map((s) =>
    `  ${JSON.stringify(s)}: await import(${JSON.stringify(s)}),`
  ).join("\n")
}
};
${SERVE}`;

const CJS = `"use strict";
const assert = require("node:assert/strict");
const wsgi = require("wsgi");
const entries = {
${
  specifiers.map((s) =>
    `  ${JSON.stringify(s)}: require(${JSON.stringify(s)}),`
  ).join("\n")
}
};
(async () => {
${SERVE}
})().catch((error) => {
  console.error(error);
  process.exit(1);
});`;

/** Runs a script file in the consumer project; asserts the served body. */
async function serveWith(cmd, file, text) {
  await install();
  writeFileSync(join(project, file), text);
  const result = await run(cmd, [file], { cwd: project, timeout: 30_000 });
  assertOk(result, `${cmd} ${file}`);
  assert.match(result.stdout, /^body: ¡Hola, mundo!$/m);
}

test("npm package: builds, packs and installs with only the library", async () => {
  const { files } = await install();
  const must = [
    "package.json",
    "LICENSE",
    "esm/package.json",
    "script/package.json",
    ...Object.values(entries).flatMap((path) => {
      const stem = path.slice(2, -3);
      return ["esm", "script"].flatMap((dir) => [
        `${dir}/${stem}.js`,
        `${dir}/${stem}.d.ts`,
      ]);
    }),
    ...(hasCli ? ["bin/wsgi.mjs"] : []),
    ...(existsSync(join(root, "README.md")) ? ["README.md"] : []),
  ];
  for (const file of must) {
    assert.ok(files.includes(file), `${file} not packed`);
  }
  for (const file of files) {
    assert.doesNotMatch(file, /(^|\/)tests?\/|[._]test\.|\.ts$(?<!\.d\.ts)/);
  }
  const pkg = JSON.parse(
    readFileSync(join(project, "node_modules", "wsgi", "package.json"), "utf8"),
  );
  assert.deepEqual(
    Object.keys(pkg.exports).sort(),
    Object.keys(entries).sort(),
  );
  assert.equal(pkg.version, denoJson.version);
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.bin?.wsgi, hasCli ? "bin/wsgi.mjs" : undefined);
});

test("npm package: README.md and docs/ links resolve in the package or point at the repository", async () => {
  const { files } = await install();
  const pages = files.filter((file) =>
    /^(README\.md|docs\/[^/]+\.md)$/.test(file)
  );
  // README.md links every docs page; each is packed with it.
  for (const [, target] of readme.matchAll(/\]\((docs\/[^)#\s]+)/g)) {
    assert.ok(files.includes(target), `README.md links ${target}, not packed`);
  }
  assert.ok(pages.length > 1, `no docs pages packed: ${pages.join(", ")}`);
  const installed = join(project, "node_modules", "wsgi");
  for (const page of pages) {
    const text = readFileSync(join(installed, page), "utf8");
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const path = join(dirname(page), target);
      assert.ok(
        existsSync(join(installed, path)),
        `${page} links ${target}: not in the package`,
      );
    }
  }
});

for (const node of nodes) {
  test(`npm package: import (ESM) and makeServer on ${node.name}`, () =>
    serveWith(node.path, "check.mjs", ESM));
  test(`npm package: require (CommonJS) and makeServer on ${node.name}`, () =>
    serveWith(node.path, "check.cjs", CJS));
}

/**
 * Starts the installed `wsgi` bin with `node` first on PATH (its shebang is
 * `#!/usr/bin/env node`), fetches the URL it prints, then sends SIGINT.
 */
async function runBin(node) {
  await install();
  const link = join(project, "node_modules", ".bin", "wsgi");
  assert.ok(existsSync(link), "npm did not link node_modules/.bin/wsgi");
  const child = startChild(link, ["--port", "0"], {
    cwd: project,
    env: {
      ...cleanEnv,
      PATH: dirname(realpathSync(node.path)) + delimiter + process.env.PATH,
    },
    timeout: 30_000,
  });
  try {
    const [url] = await child.waitFor(/http:\/\/127\.0\.0\.1:\d+\//, {
      stream: "stdout",
    });
    const response = await fetch(url);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.match(body, /^Hello world!\n/);
    const { code, signal } = await child.stop("SIGINT");
    assert.equal(signal, null, `wsgi was killed by ${signal}\n${child.text()}`);
    assert.equal(code, 0, `wsgi exited with ${code}\n${child.text()}`);
  } finally {
    await child.stop("SIGKILL");
  }
}

for (const node of nodes) {
  test(
    `npm package: the wsgi bin serves the demo app on ${node.name}`,
    { skip: !hasCli && NO_CLI },
    () => runBin(node),
  );
}

const PID_APP = `export function app(environ, startResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(String(process.pid))];
}
`;

/**
 * `wsgi --workers 2 app.mjs:app` from the installed bin: both workers
 * answer (each its pid), then SIGTERM stops all with exit 0.
 */
async function runWorkers(node) {
  await install();
  writeFileSync(join(project, "pid_app.mjs"), PID_APP);
  const link = join(project, "node_modules", ".bin", "wsgi");
  const child = startChild(
    link,
    ["--workers", "2", "--port", "0", "-q", "pid_app.mjs:app"],
    {
      cwd: project,
      env: {
        ...cleanEnv,
        PATH: dirname(realpathSync(node.path)) + delimiter + process.env.PATH,
      },
      timeout: 30_000,
    },
  );
  try {
    const [url] = await child.waitFor(/http:\/\/127\.0\.0\.1:\d+\//, {
      stream: "stdout",
    });
    await servesFromWorkers(child, url);
  } finally {
    await stopWorkers(child);
  }
}

/** The worker pids a supervisor has logged as booting. */
const workerPids = (child) =>
  [...child.text("stderr").matchAll(/worker (\d+) booting/g)].map((m) =>
    Number(m[1])
  );

/** Both workers answer (each its pid), then SIGTERM stops all with exit 0. */
async function servesFromWorkers(child, url) {
  const pids = new Set();
  for (let i = 0; i < 100 && pids.size < 2; i++) {
    const response = await fetch(url, { headers: { Connection: "close" } });
    pids.add(Number(await response.text()));
  }
  const stderr = () => child.text("stderr");
  assert.deepEqual([...pids].sort(), workerPids(child).sort(), stderr());
  const { code, signal } = await child.stop("SIGTERM", 10_000);
  assert.equal(signal, null, `wsgi was killed by ${signal}\n${stderr()}`);
  assert.equal(code, 0, `wsgi exited with ${code}\n${stderr()}`);
}

/** Stops the supervisor and every worker it logged, by pid. */
async function stopWorkers(child) {
  await child.stop("SIGKILL");
  for (const pid of workerPids(child)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone, as it should be.
    }
  }
}

for (const node of nodes) {
  test(
    `npm package: wsgi --workers 2 serves from both workers on ${node.name}`,
    { skip: !hasCli && NO_CLI },
    () => runWorkers(node),
  );
}

test(
  "npm package: wsgi app.ts:app on a Node without type stripping says what to do",
  { skip: !hasCli && NO_CLI },
  async () => {
    await install();
    const old = nodes.find((node) => {
      const [major, minor] = node.name.slice(6).split(".").map(Number);
      return major < 22 || (major === 22 && minor < 6);
    });
    if (!old) return;
    writeFileSync(join(project, "api.ts"), PID_APP);
    const result = await run(
      join(project, "node_modules", ".bin", "wsgi"),
      ["--check-config", "api.ts:app"],
      {
        cwd: project,
        env: {
          ...cleanEnv,
          PATH: dirname(realpathSync(old.path)) + delimiter + process.env.PATH,
        },
      },
    );
    assert.equal(result.code, 2, result.stderr);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0],
      /^wsgi: cannot import "api\.ts": Node v?20\.[\d.]+ does not run TypeScript: use Node 22\.6\+/,
    );
  },
);

test("npm package: types check for a strict .mts and .cts consumer", async () => {
  await install();
  const subpaths = specifiers.filter((s) => s !== "wsgi");
  const source = `import {
  demoApp,
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
  type WSGIServer,
} from "wsgi";
${
    subpaths.map((s, i) => `import * as entry${i} from ${JSON.stringify(s)};`)
      .join("\n")
  }
${hasCli ? 'import { main } from "wsgi/cli";' : ""}

function app(environ: WSGIEnvironment, startResponse: StartResponse) {
  const method: unknown = environ.REQUEST_METHOD;
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(\`¡Hola, mundo! \${String(method)}\`)];
}
export const server: WSGIServer = makeServer("127.0.0.1", 0, app);
export const url: string = server.url;
export const port: number = server.serverPort;
export const stopped: Promise<void> = server.shutdown();
export const served: Promise<void> = makeServer("::1", 0, demoApp).serveForever();
// @ts-expect-error: a port is a number (fails if the types were any)
makeServer("127.0.0.1", "8000", app);
export const modules: unknown[] = [${
    subpaths.map((_, i) => `entry${i}`).join(", ")
  }];
${hasCli ? 'export const code: Promise<number> = main(["--help"]);' : ""}
`;
  const consumer = join(project, "types");
  mkdirSync(consumer);
  writeFileSync(join(consumer, "esm.mts"), source);
  writeFileSync(join(consumer, "cjs.cts"), source);
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        // What the package's types need: Web APIs (Request, Response,
        // streams) and Symbol.asyncDispose. No Node, Deno or Bun types.
        lib: ["ES2022", "DOM", "DOM.Iterable", "ESNext.Disposable"],
        types: [],
        strict: true,
        noEmit: true,
      },
      files: ["esm.mts", "cjs.cts"],
    }),
  );
  const result = await run(bin("tsc"), ["-p", consumer, "--pretty", "false"], {
    cwd: project,
  });
  assertOk(result, "tsc -p types");
});

test("npm package: import and makeServer on Bun", () =>
  serveWith(bin("bun"), "check_bun.mjs", ESM));

// README's newcomer routes. main.ts is the tutorial's program, serving one
// request on a free port and printing the body.
const MAIN_TS = (from) =>
  `import {
  makeServer,
  type StartResponse,
  type WSGIEnvironment,
} from ${JSON.stringify(from)};

function app(environ: WSGIEnvironment, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode("¡Hola, mundo!" + environ.PATH_INFO)];
}

const server = makeServer("127.0.0.1", 0, app, { log: false });
await server.ready;
const response = await fetch(server.url);
console.log("body:", await response.text());
await server.shutdown();
`;

let newcomer;
/** An `npm init -y` project with the tarball installed and main.ts. */
function newcomerProject() {
  newcomer ??= (async () => {
    await install();
    const dir = join(work, "newcomer");
    await npmProject(dir);
    writeFileSync(join(dir, "main.ts"), MAIN_TS("wsgi"));
    return dir;
  })();
  return newcomer;
}

const served = (result, what) => {
  assertOk(result, what);
  assert.match(result.stdout, /^body: ¡Hola, mundo!\/$/m);
};

test("from a clone, Node 24: node main.ts needs type module (or .mts) in an npm init -y folder", async () => {
  const dir = await newcomerProject();
  const node24 = bin("node");
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (pkg.type === "commonjs") {
    // npm 11: the README's warning holds.
    const failed = await run(node24, ["main.ts"], { cwd: dir });
    assert.notEqual(failed.code, 0);
    assert.match(
      failed.stderr,
      /SyntaxError: Cannot use import statement outside a module/,
    );
  }
  inReadme("`main.mts`");
  writeFileSync(join(dir, "main.mts"), MAIN_TS("wsgi"));
  served(await run(node24, ["main.mts"], { cwd: dir }), "node main.mts");
  inReadme("npm pkg set type=module");
  assertOk(
    await run("npm", ["pkg", "set", "type=module"], {
      cwd: dir,
      env: cleanEnv,
    }),
    "npm pkg set type=module",
  );
  inReadme("node main.ts");
  served(await run(node24, ["main.ts"], { cwd: dir }), "node main.ts");
});

// The tutorial's program as two modules, as a project soon is: main.ts
// imports its app from ./app.ts, the name Deno, Bun and Node 24 run.
const TWO_MODULES = {
  "app.ts": `import type { StartResponse, WSGIEnvironment } from "wsgi";

export function app(environ: WSGIEnvironment, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode("¡Hola, mundo!" + environ.PATH_INFO)];
}
`,
  "main.ts": `import { makeServer } from "wsgi";
import { app } from "./app.ts";

const server = makeServer("127.0.0.1", 0, app, { log: false });
await server.ready;
const response = await fetch(server.url);
console.log("body:", await response.text());
await server.shutdown();
`,
};

test("from a clone, Node 20: npm i -D typescript, npx tsc of two modules, node main.js", async () => {
  await install();
  const dir = join(work, "node20");
  await npmProject(dir);
  await run("npm", ["pkg", "set", "type=module"], { cwd: dir, env: cleanEnv });
  inReadme("npm i -D typescript");
  // README's `npm i -D typescript`, from the toolchain's copy (no network).
  const ts = await run(
    "npm",
    [
      "install",
      "-D",
      "--offline",
      "--no-audit",
      "--no-fund",
      join(root, "node_modules", "typescript"),
    ],
    { cwd: dir, env: cleanEnv },
  );
  assertOk(ts, "npm i -D typescript");
  for (const [name, text] of Object.entries(TWO_MODULES)) {
    writeFileSync(join(dir, name), text);
  }
  const tscArgs =
    "--module nodenext --target es2022 --rewriteRelativeImportExtensions main.ts";
  inReadme(`npx tsc ${tscArgs}`);
  inDocs("install.md", `npx tsc ${tscArgs}`);
  const tsc = (args) =>
    run("npx", ["tsc", ...args.split(" ")], {
      cwd: dir,
      env: cleanEnv,
      timeout: 120_000,
    });
  // Without the flag tsc refuses the .ts name (docs/install.md says so).
  inDocs("install.md", "TS5097");
  const refused = await tsc("--module nodenext --target es2022 main.ts");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /error TS5097/);
  assertOk(await tsc(tscArgs), "npx tsc");
  assert.match(
    readFileSync(join(dir, "main.js"), "utf8"),
    /from "\.\/app\.js"/,
  );
  inReadme("node main.js");
  // The machine's Node (20 in CI), which cannot run main.ts itself.
  served(await run(nodes[0].path, ["main.js"], { cwd: dir }), "node main.js");
});

/** A fenced block of a docs page: the first one in `lang` after `heading`. */
function docBlock(page, heading, lang) {
  const doc = readFileSync(join(root, "docs", page), "utf8");
  const from = doc.indexOf(heading);
  assert.notEqual(from, -1, `docs/${page} lost ${heading}`);
  const match = new RegExp("^```" + lang + "\\n([^]*?)^```$", "m")
    .exec(doc.slice(from));
  assert.ok(match, `docs/${page}: no ${lang} block after ${heading}`);
  return match[1];
}

// docs/deploy.md's container recipe without a container engine: the build
// context gets the tarball as the page says, then the Dockerfile's COPY
// lines copy it into a fresh folder (the image's /app), its `npm ci` runs
// there, and its CMD serves (Node 24, as node:24-slim has), on a free port.
test("docs/deploy.md's container: npm ci inside the build context, then its CMD serves", async () => {
  await install();
  const context = join(work, "container");
  await npmProject(context);
  inDocs("deploy.md", "mkdir -p vendor && cp ../wsgi/npm/wsgi-*.tgz vendor/");
  inDocs("deploy.md", "npm install ./vendor/wsgi-*.tgz");
  mkdirSync(join(context, "vendor"));
  const name = tarball.split(sep).pop();
  cpSync(tarball, join(context, "vendor", name));
  assertOk(
    await run(
      "npm",
      ["install", "--offline", "--no-audit", "--no-fund", `./vendor/${name}`],
      { cwd: context, env: cleanEnv },
    ),
    "npm install ./vendor/<tarball>",
  );
  inDocs("deploy.md", "npm pkg set type=module");
  assertOk(
    await run("npm", ["pkg", "set", "type=module"], {
      cwd: context,
      env: cleanEnv,
    }),
    "npm pkg set type=module",
  );
  const pkg = JSON.parse(readFileSync(join(context, "package.json"), "utf8"));
  assert.equal(pkg.dependencies.wsgi, `file:vendor/${name}`);
  writeFileSync(join(context, "app.ts"), PID_APP);

  const image = join(work, "image");
  mkdirSync(image);
  const dockerfile = docBlock(
    "deploy.md",
    "## A container image",
    "dockerfile",
  );
  let cmd = null;
  for (const line of dockerfile.split("\n")) {
    const [op, ...rest] = line.trim().split(/\s+/);
    if (op === "COPY") {
      // Docker's rules: a folder's contents go into the destination, a
      // file into it when it ends with "/".
      const dest = rest.pop();
      for (const source of rest) {
        const target = source.endsWith("/") || !dest.endsWith("/")
          ? join(image, dest)
          : join(image, dest, source);
        cpSync(join(context, source), target, { recursive: true });
      }
    } else if (op === "RUN") {
      assert.deepEqual(rest, ["npm", "ci", "--omit=dev"]);
      // Nothing in the image but what COPY put there: the lock file must
      // point inside it.
      assertOk(
        await run("npm", [
          ...rest.slice(1),
          "--offline",
          "--no-audit",
          "--no-fund",
        ], {
          cwd: image,
          env: cleanEnv,
        }),
        "npm ci --omit=dev in the image",
      );
    } else if (op === "CMD") {
      cmd = JSON.parse(rest.join(" "));
    }
  }
  assert.ok(cmd, "the Dockerfile has no CMD");
  assert.equal(cmd[0], "node");
  // The CMD, on loopback and a free port, with two workers.
  const args = cmd.slice(1).map((arg, i, all) =>
    all[i - 1] === "--port"
      ? "0"
      : all[i - 1] === "--host"
      ? "127.0.0.1"
      : all[i - 1] === "--workers"
      ? "2"
      : arg
  );
  const child = startChild(bin("node"), [...args, "-q"], {
    cwd: image,
    env: cleanEnv,
    timeout: 30_000,
  });
  try {
    const [url] = await child.waitFor(/http:\/\/127\.0\.0\.1:\d+\//, {
      stream: "stdout",
    });
    await servesFromWorkers(child, url);
  } finally {
    await stopWorkers(child);
  }
});

test("from a clone, Bun: bun add the tarball, bun main.ts", async () => {
  await install();
  const dir = join(work, "bun-app");
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bun-app" }));
  inReadme("bun add ../wsgi/npm/wsgi-*.tgz");
  assertOk(
    await run(bin("bun"), ["add", tarball], { cwd: dir, env: cleanEnv }),
    "bun add <tarball>",
  );
  writeFileSync(join(dir, "main.ts"), MAIN_TS("wsgi"));
  served(await run(bin("bun"), ["main.ts"], { cwd: dir }), "bun main.ts");
});

test("from a clone, Deno: an import map entry pointing at mod.ts", async () => {
  const dir = join(work, "deno-app");
  mkdirSync(dir);
  const entry = '{ "imports": { "@wsgi/wsgi": "../wsgi/mod.ts" } }';
  inReadme(entry);
  // README's deno.json, with the clone where this one is.
  const clone = relative(dir, root).split(sep).join("/");
  writeFileSync(join(dir, "deno.json"), entry.replace("../wsgi", clone));
  writeFileSync(join(dir, "main.ts"), MAIN_TS("@wsgi/wsgi"));
  inReadme("deno run --allow-net main.ts");
  served(
    await run(bin("deno"), ["run", "--allow-net", "main.ts"], {
      cwd: dir,
      env: { ...cleanEnv, NO_COLOR: "1" },
    }),
    "deno run --allow-net main.ts",
  );
});

const WORD_APP = (word) =>
  `export function app(environ, startResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(${JSON.stringify(word)})];
}
`;

/**
 * docs/deploy.md's deployment command, the installed bin run directly
 * (`node_modules/.bin/wsgi`, or `bun node_modules/.bin/wsgi`), with
 * `--workers 2 --reload --pid FILE`: every replace-by-rename edit of the
 * app reloads (Node 20's recursive watch went deaf after the first), the
 * pid in the file takes SIGHUP and SIGTERM, and the file is removed.
 */
async function runDeployCommand(cmd, args, env) {
  await install();
  const dir = join(project, `deploy-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  const file = join(dir, "app.mjs");
  writeFileSync(file, WORD_APP("v0"));
  const pidFile = join(dir, "app.pid");
  const child = startChild(cmd, [
    ...args,
    "--workers",
    "2",
    "--reload",
    "--pid",
    pidFile,
    "--port",
    "0",
    "-q",
    "app.mjs:app",
  ], { cwd: dir, env, timeout: 60_000 });
  const reloads = () =>
    (child.text("stderr").match(/reload done/g) ?? []).length;
  const waitFor = async (test, what) => {
    const deadline = Date.now() + 15_000;
    while (!test()) {
      if (Date.now() > deadline) {
        throw new Error(`${what}\n${child.text("stderr")}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    const [url] = await child.waitFor(/http:\/\/127\.0\.0\.1:\d+\//, {
      stream: "stdout",
    });
    const body = async () => (await fetch(url)).text();
    assert.equal(await body(), "v0");
    assert.equal(readFileSync(pidFile, "utf8"), `${child.pid}\n`);
    for (const word of ["v1", "v2"]) {
      const before = reloads();
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(`${file}.tmp`, WORD_APP(word));
      renameSync(`${file}.tmp`, file);
      await waitFor(() => reloads() > before, `edit ${word} not seen`);
      let seen = "";
      for (let i = 0; i < 40 && seen !== word; i++) {
        seen = await body();
        if (seen !== word) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen, word);
    }
    const before = reloads();
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGHUP");
    await waitFor(() => reloads() > before, "SIGHUP to the pid file's pid");
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGTERM");
    const { code, signal } = await child.exited;
    const stderr = child.text("stderr");
    assert.equal(signal, null, `wsgi was killed by ${signal}\n${stderr}`);
    assert.equal(code, 0, `wsgi exited with ${code}\n${stderr}`);
    assert.equal(existsSync(pidFile), false, "the pid file is removed");
  } finally {
    await stopWorkers(child);
  }
}

for (const node of nodes) {
  test(
    `npm package, docs/deploy.md: node_modules/.bin/wsgi --workers 2 --reload --pid on ${node.name}`,
    { skip: !hasCli && NO_CLI },
    () =>
      runDeployCommand(
        join(project, "node_modules", ".bin", "wsgi"),
        [],
        {
          ...cleanEnv,
          PATH: dirname(realpathSync(node.path)) + delimiter + process.env.PATH,
        },
      ),
  );
}

test(
  "npm package, docs/deploy.md: bun node_modules/.bin/wsgi --workers 2 --reload --pid",
  { skip: !hasCli && NO_CLI },
  () =>
    runDeployCommand(
      bin("bun"),
      [join(project, "node_modules", ".bin", "wsgi")],
      cleanEnv,
    ),
);
