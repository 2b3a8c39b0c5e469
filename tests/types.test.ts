// The typed environ (issue 12.2): a newcomer's app (tests/fixtures/typed/
// app.ts: a router, a form, a JSON API) runs, and type-checks with no cast
// under `tsc --strict` and `deno check`; each mistake it marks with
// `@ts-expect-error` fails with the code it names once the directive is
// gone. The toolchain checks run once, in the Deno suite.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testClient } from "../mod.ts";
import { app, fetchHandler, upload } from "./fixtures/typed/app.ts";
import { run as runChild } from "./_child.ts";
import { RUNTIME } from "./_util.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixture = join(root, "tests", "fixtures", "typed", "app.ts");
const skip = RUNTIME === "deno"
  ? false
  : "the toolchain checks run in the Deno suite";

async function run(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; out: string }> {
  const result = await runChild(join(root, "node_modules", ".bin", cmd), args, {
    cwd,
    env: { ...withoutForceColor(), NO_COLOR: "1" },
  });
  return {
    code: result.code ?? 1,
    // Deno colours its output when FORCE_COLOR is set at all (npm test
    // sets FORCE_COLOR=0), NO_COLOR or not.
    out: (result.stdout + result.stderr).replace(/\x1b\[[0-9;]*m/g, ""),
  };
}

/** The environment without FORCE_COLOR, which Deno obeys whatever its value. */
function withoutForceColor(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.FORCE_COLOR;
  return env;
}

/** A strict tsconfig for `files`: Web APIs only, no runtime types. */
function tsconfig(dir: string, files: string[]): string {
  const path = join(dir, "tsconfig.json");
  writeFileSync(
    path,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        allowImportingTsExtensions: true,
        lib: ["ES2022", "DOM", "DOM.Iterable", "ESNext.Disposable"],
        types: [],
      },
      files,
    }),
  );
  return path;
}

/** `[line, "TS1234"]` for each `@ts-expect-error TS1234 ...` directive. */
function expectedErrors(text: string): [number, string][] {
  const out: [number, string][] = [];
  text.split("\n").forEach((line, i) => {
    const m = /\/\/ @ts-expect-error (TS\d+)/.exec(line);
    if (m) out.push([i + 2, m[1]]); // the error is on the next line
  });
  return out;
}

test("the typed app runs: router, JSON API, form, inline and async apps", async () => {
  const client = testClient(app);
  const got = await client.get("/api/caf%C3%A9?page=2", {
    headers: { Authorization: "Bearer t0k", "User-Agent": "newcomer" },
  });
  assert.equal(got.status, 200);
  const info = await got.json();
  assert.equal(info.name, "café");
  assert.equal(info.page, 2);
  assert.equal(info.token, "t0k");
  assert.equal(info.agent, "newcomer");
  assert.equal(info.server, "localhost:80");
  assert.equal(info.wsgi, "1.0");
  const posted = await client.post("/api/x", JSON.stringify({ a: [1] }), {
    headers: { "Content-Type": "application/json" },
  });
  assert.equal(posted.status, 201);
  assert.deepEqual(await posted.json(), { data: { a: [1] } });
  const refused = await client.post("/api/x", "a=1");
  assert.equal(refused.status, 415);
  const greeted = await testClient(app, { errors: quiet }).post(
    "/form",
    new URLSearchParams({ name: "Ana" }),
  );
  assert.equal(await greeted.text(), "<p>Hello, Ana!</p>");
  const forwarded = await client.post("/forward", "héllo");
  assert.equal(await forwarded.text(), "héllo 32");
  assert.equal((await client.get("/nowhere")).status, 404);
  const inline = await fetchHandler(new Request("http://localhost/abc"));
  assert.equal(await inline.text(), "/ABC");
  const uploaded = await testClient(upload, { bufferInput: false })
    .post("/", "12345");
  assert.equal(await uploaded.text(), "5 bytes");
});

const quiet = { write() {}, writelines() {}, flush() {} };

test("the typed app type-checks with no cast under tsc --strict", {
  skip,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-types-"));
  try {
    const { code, out } = await run(
      "tsc",
      ["-p", tsconfig(dir, [fixture]), "--pretty", "false"],
      dir,
    );
    assert.equal(code, 0, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the typed app type-checks with no cast under deno check", {
  skip,
}, async () => {
  const { code, out } = await run("deno", ["check", fixture], root);
  assert.equal(code, 0, out);
});

test("each mistyped use fails under tsc and deno check with its error", {
  skip,
}, async () => {
  const text = readFileSync(fixture, "utf8");
  const expected = expectedErrors(text);
  assert.ok(expected.length >= 7, "the fixture lost its mistakes");
  // The same file without its directives (lines kept), importing mod.ts by
  // absolute path from a temporary directory.
  const mistyped = text
    .replace(/^\s*\/\/ @ts-expect-error .*$/gm, "//")
    .replace('"../../../mod.ts"', JSON.stringify(join(root, "mod.ts")));
  const dir = mkdtempSync(join(tmpdir(), "wsgi-types-"));
  try {
    const file = join(dir, "mistyped.ts");
    writeFileSync(file, mistyped);
    const tsc = await run(
      "tsc",
      ["-p", tsconfig(dir, [file]), "--pretty", "false"],
      dir,
    );
    assert.notEqual(tsc.code, 0, tsc.out);
    const fromTsc = [
      ...tsc.out.matchAll(/mistyped\.ts\((\d+),\d+\): error (TS\d+)/g),
    ]
      .map((m): [number, string] => [Number(m[1]), m[2]]);
    assert.deepEqual(fromTsc, expected, tsc.out);
    const deno = await run("deno", ["check", file], dir);
    assert.notEqual(deno.code, 0, deno.out);
    const codes = [...deno.out.matchAll(/^(TS\d+) \[ERROR\]/gm)].map((m) =>
      m[1]
    );
    const lines = [...deno.out.matchAll(/mistyped\.ts:(\d+):\d+/g)].map((m) =>
      Number(m[1])
    );
    assert.deepEqual(
      codes.map((code, i): [number, string] => [lines[i], code]),
      expected,
      deno.out,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
