import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

test("importing mod.ts and serving a request loads no node: module and touches no Deno or Bun global", () => {
  // Checked under Node 24 with module hooks, whichever runtime runs the
  // suite: the core must run on any Web-standard runtime (the edge).
  const out = execFileSync(
    `${root}node_modules/.bin/node`,
    [`${root}tests/fixtures/portable_probe.mjs`, `${root}mod.ts`],
    { encoding: "utf8" },
  );
  const result = JSON.parse(out.trim().split("\n").at(-1)!);
  assert.equal(result.status, 200);
  assert.equal(result.hello, true);
  assert.ok(result.resolved.length > 3, "the probe saw the module graph");
  assert.deepEqual(
    result.resolved.filter((s: string) => s.startsWith("node:")),
    [],
  );
  assert.deepEqual(result.touched, []);
});
