// What README.md and the docs/ pages tell a newcomer (issues 12.6, 12.7,
// 19.4), checked: the README stays a five-minute page that reaches every
// docs page in one click, every relative link resolves (file and anchor),
// the examples it links exist, PATH_INFO's bytes turn back into text as
// docs/api.md shows, and its `deno serve --host 127.0.0.1` command serves
// on loopback only. (The install routes are run by
// tests_npm/package.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import {
  decodeNative,
  type StartResponse,
  testClient,
  type WSGIEnvironment,
} from "../mod.ts";
import { run, startChild } from "./_child.ts";
import { RUNTIME } from "./_util.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const readme = read("README.md");
/** docs/api.md: the API overview the README's API section moved to. */
const api = read("docs/api.md");
const onDeno = RUNTIME === "deno";

/** Every Markdown page a reader meets: README.md and docs/*.md. */
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** Markdown without its fenced code blocks (links there are code). */
const prose = (text: string) => text.replace(/^```[^]*?^```$/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors a Markdown page has, numbered as GitHub numbers repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative link targets of a page: `[text](target)`, `![alt](target)`. */
function links(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    .filter((t) => !/^[a-z][a-z+.-]*:/i.test(t));
}

test("README.md is a five-minute page: under 160 lines", () => {
  const lines = readme.split("\n").length - 1;
  assert.ok(lines < 160, `README.md has ${lines} lines; move detail to docs/`);
});

test("README links every docs page", () => {
  for (const page of pages.filter((p) => p.startsWith("docs/"))) {
    assert.ok(readme.includes(`](${page})`), `README.md does not link ${page}`);
  }
});

test("every relative link in README.md and docs/*.md resolves, anchors too", () => {
  let checked = 0;
  const broken: string[] = [];
  for (const page of pages) {
    for (const target of links(read(page))) {
      const [path, anchor] = target.split("#");
      const file = path
        ? normalize(join(dirname(page), decodeURIComponent(path)))
        : page;
      checked++;
      if (!existsSync(join(root, file))) {
        broken.push(`${page}: ${target} (no file)`);
        continue;
      }
      if (anchor && file.endsWith(".md") && !anchors(read(file)).has(anchor)) {
        broken.push(`${page}: ${target} (no heading #${anchor})`);
      }
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 40, `only ${checked} links found`);
  // The checker itself: GitHub's anchors for headings with code and colons.
  assert.equal(slug("All cores: `--workers`"), "all-cores---workers");
  assert.equal(
    slug("The core: a Web `Request` in"),
    "the-core-a-web-request-in",
  );
});

test("README links every program in examples/", () => {
  const examples = readdirSync(join(root, "examples")).filter((f) =>
    f.endsWith(".ts")
  );
  assert.ok(examples.length >= 5);
  for (const file of examples) {
    assert.ok(
      readme.includes(`](examples/${file})`),
      `README.md does not link examples/${file}`,
    );
  }
});

test("PATH_INFO's native string turns back into text with decodeNative, as docs/api.md shows", async () => {
  let seen = "";
  const client = testClient(
    (environ: WSGIEnvironment, startResponse: StartResponse) => {
      seen = environ.PATH_INFO;
      startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
      return [new TextEncoder().encode(decodeNative(environ.PATH_INFO))];
    },
  );
  const res = await client.get("/api/caf%C3%A9");
  assert.equal(seen, "/api/caf\u00c3\u00a9");
  assert.equal(await res.text(), "/api/café");
  assert.ok(api.includes('`PATH_INFO` `"/api/cafÃ©"`'));
  assert.ok(api.includes('decodeNative(environ.PATH_INFO); // "/api/café"'));
  // Invalid UTF-8 becomes U+FFFD; text that is not a native string is refused.
  assert.equal(decodeNative("\u00ff"), "\ufffd");
  assert.throws(() => decodeNative("caf\u00e9\u20ac"), TypeError);
});

test(
  "docs/api.md's deno serve --host 127.0.0.1 serves server.ts on loopback",
  { skip: onDeno ? false : "runs in the Deno suite" },
  async () => {
    const command = /^deno serve --host 127\.0\.0\.1 --port 8000 server\.ts$/m;
    assert.match(api, command, "docs/api.md lost its deno serve --host line");
    assert.match(api, /`deno serve` listens on `0\.0\.0\.0:8000`/);
    // The page's command, on a free port (0) instead of 8000.
    const child = startChild(
      join(root, "node_modules", ".bin", "deno"),
      ["serve", "--host", "127.0.0.1", "--port", "0", "server.ts"],
      {
        cwd: root,
        // Deno colours its output when FORCE_COLOR is set at all.
        env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined },
        timeout: 20_000,
      },
    );
    try {
      const [, url] = await child.waitFor(/Listening on (http:\/\/[^\s]+)/);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^Hello world!/);
    } finally {
      await child.stop();
    }
  },
);

test(
  "npm run docs: the API reference from the doc comments, every entry point",
  { skip: onDeno ? false : "runs in the Deno suite" },
  async () => {
    const pkg = JSON.parse(read("package.json"));
    assert.equal(pkg.scripts.docs, "deno run -A scripts/api_docs.ts");
    assert.ok(api.includes("npm run docs"), "docs/api.md lost npm run docs");
    const out = mkdtempSync(join(tmpdir(), "wsgi-api-"));
    try {
      const result = await run(
        join(root, "node_modules", ".bin", "deno"),
        ["run", "-A", "scripts/api_docs.ts", "--output", out],
        { cwd: root },
      );
      const output = result.stdout + result.stderr;
      assert.equal(result.code, 0, output);
      const config = JSON.parse(read("deno.json"));
      for (const key of Object.keys(config.exports)) {
        const page = key === "." ? "index.html" : `${key.slice(2)}/index.html`;
        assert.ok(existsSync(join(out, page)), `no ${page}: ${output}`);
      }
      const symbols = readFileSync(join(out, "all_symbols.html"), "utf8");
      for (
        const name of ["makeServer", "testClient", "toFetchHandler", "main"]
      ) {
        assert.match(symbols, new RegExp(`\\b${name}\\b`), name);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);

// The pages this test file owns; the deploy page and the guides of other
// issues check their own blocks.
const OWN_PAGES = [
  "README.md",
  "docs/api.md",
  "docs/cli.md",
  "docs/install.md",
  "docs/testing.md",
  "docs/limits.md",
  "docs/runtimes.md",
  "docs/proxies.md",
  "docs/development.md",
];

test(
  "the TypeScript blocks of the README and its pages type-check; docs/testing.md's runs",
  { skip: onDeno ? false : "runs in the Deno suite" },
  async () => {
    const deno = join(root, "node_modules", ".bin", "deno");
    const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined };
    const blocks = OWN_PAGES.flatMap((page) =>
      [...read(page).matchAll(/^```ts$/gm)].map(() => page)
    );
    assert.ok(blocks.length >= 4, `only ${blocks.length} checked blocks`);
    const check = await run(
      deno,
      ["check", "--doc-only", ...OWN_PAGES],
      { cwd: root, env, timeout: 120_000 },
    );
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const ran = await run(
      deno,
      ["test", "--allow-read", "--doc", "docs/testing.md"],
      { cwd: root, env, timeout: 120_000 },
    );
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /ok \| 1 passed/);
  },
);

test("each runtime bug tests/_hostile_cases.ts accepts is a row of docs/runtimes.md", async () => {
  const cases = await import("./_hostile_cases.ts");
  const table = read("docs/runtimes.md");
  const rows = Object.values(cases).filter(Array.isArray).flat()
    .flatMap((c) => Object.values(c.runtimeBug ?? {}))
    .map((bug) => (bug as { readme: string }).readme);
  assert.ok(rows.length >= 3, `only ${rows.length} runtime bugs found`);
  for (const row of rows) {
    assert.ok(
      table.includes(`| ${row}`),
      `docs/runtimes.md has no row "${row}"`,
    );
  }
});
