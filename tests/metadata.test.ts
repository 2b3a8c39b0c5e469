// The repository's own checks: metadata kept in one place, and the Deno
// toolchain's verdicts (fmt, lint, doc lint, publish dry run), which JSR
// applies on publish. The toolchain checks run once, in the Deno suite.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { makeEnviron } from "../mod.ts";
import { run as runChild } from "./_child.ts";
import { RUNTIME } from "./_util.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const deno = `${root}node_modules/.bin/deno`;
const skip = RUNTIME === "deno"
  ? false
  : "the Deno toolchain checks run in the Deno suite";

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const result = await runChild(deno, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 180_000,
  });
  return { code: result.code ?? 1, out: result.stdout + result.stderr };
}

test("SERVER_SOFTWARE carries deno.json's version", () => {
  const config = JSON.parse(readFileSync(`${root}deno.json`, "utf8"));
  const environ = makeEnviron({
    method: "GET",
    target: "/",
    headers: [],
    serverName: "h",
    serverPort: 80,
  }, null);
  assert.equal(environ.SERVER_SOFTWARE, `wsgi/${config.version}`);
});

test("deno fmt --check and deno lint are clean", { skip }, async () => {
  const fmt = await run(["fmt", "--check"]);
  assert.equal(fmt.code, 0, fmt.out);
  const lint = await run(["lint"]);
  assert.equal(lint.code, 0, lint.out);
});

test("deno doc --lint is clean for every entry point", { skip }, async () => {
  const config = JSON.parse(readFileSync(`${root}deno.json`, "utf8"));
  const entries = Object.values(config.exports) as string[];
  const doc = await run(["doc", "--lint", ...entries]);
  assert.equal(doc.code, 0, doc.out);
});

test("deno publish --dry-run passes (no slow types, license, file list)", {
  skip,
}, async () => {
  const publish = await run(["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(publish.code, 0, publish.out);
  assert.match(publish.out, /Dry run complete/);
  assert.doesNotMatch(publish.out, /tests\/|scripts\/|examples\//);
});
