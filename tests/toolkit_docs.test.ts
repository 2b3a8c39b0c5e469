// The ts code blocks of docs/toolkit.md and docs/flask.md, run on this
// runtime: each block is written to .tmp/ with the package names pointing
// at the sources, and imported (its assertions are the test). Blocks
// marked `ts ignore` are skipped, and so is the copy of
// examples/flask_like.ts (tests/flask_like.test.ts compares and runs it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RUNTIME } from "./_util.ts";

const root = new URL("..", import.meta.url);
const tmp = new URL(".tmp/", root);

function blocks(page: string): string[] {
  const text = readFileSync(new URL(page, root), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(<!-- [^>]+ -->\n+)?```ts\n([\s\S]*?)```/g)) {
    if (!m[1]) out.push(m[2]);
  }
  return out;
}

const rewrite = (code: string): string =>
  code
    .replaceAll(
      '"@wsgi/wsgi/toolkit"',
      JSON.stringify(new URL("src/toolkit/mod.ts", root).href),
    )
    .replaceAll('"@wsgi/wsgi"', JSON.stringify(new URL("mod.ts", root).href))
    .replaceAll('"../examples/', `"${new URL("examples/", root).href}`);

for (const page of ["docs/toolkit.md", "docs/flask.md"]) {
  const found = blocks(page);
  test(`${page} has runnable ts blocks`, () => {
    assert.ok(found.length >= 1, `${page}: no ts block to run`);
  });
  found.forEach((code, i) => {
    test(`${page}, ts block ${i + 1} runs`, async () => {
      mkdirSync(tmp, { recursive: true });
      const file = new URL(
        `docs-${RUNTIME}-${process.pid}-${page.replace(/\W/g, "_")}_${
          i + 1
        }.ts`,
        tmp,
      );
      writeFileSync(file, rewrite(code));
      try {
        await import(file.href);
      } finally {
        rmSync(fileURLToPath(file), { force: true });
      }
    });
  });
}
