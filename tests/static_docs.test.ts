// docs/static.md's `ts` blocks, run as they are on whichever runtime runs
// this file: each block is written to a temporary module beside this one,
// its `@wsgi/wsgi` imports pointed at the sources, and imported. A block
// that throws (its own asserts) fails the test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const page = readFileSync(join(root, "docs", "static.md"), "utf8");
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

test("docs/static.md has its three examples", () => {
  assert.equal(blocks.length, 3);
});

blocks.forEach((block, i) => {
  test(`docs/static.md example ${i + 1} runs`, async () => {
    const source = block
      .replaceAll(
        '"@wsgi/wsgi/toolkit"',
        JSON.stringify(pathToFileURL(join(root, "src/toolkit/mod.ts")).href),
      )
      .replaceAll(
        '"@wsgi/wsgi"',
        JSON.stringify(pathToFileURL(join(root, "mod.ts")).href),
      );
    // Under tests/ so that Node strips the types (not in node_modules).
    const dir = mkdtempSync(join(root, "tests", ".docs-"));
    try {
      const file = join(dir, `example_${i + 1}.ts`);
      writeFileSync(file, source);
      await import(pathToFileURL(file).href);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
