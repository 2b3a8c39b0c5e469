// What README.md tells a newcomer (issue 12.6, 12.7), checked: the
// examples it links exist, PATH_INFO's bytes turn back into text as it
// shows, and its `deno serve --host 127.0.0.1` command serves on loopback
// only. (The install routes are run by tests_npm/package.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  decodeNative,
  type StartResponse,
  testClient,
  type WSGIEnvironment,
} from "../mod.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const onDeno = typeof (globalThis as Record<string, unknown>).Deno === "object";

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

test("PATH_INFO's native string turns back into text with decodeNative, as README shows", async () => {
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
  assert.ok(readme.includes('`PATH_INFO` `"/api/cafÃ©"`'));
  assert.ok(readme.includes('decodeNative(environ.PATH_INFO); // "/api/café"'));
  // Invalid UTF-8 becomes U+FFFD; text that is not a native string is refused.
  assert.equal(decodeNative("\u00ff"), "\ufffd");
  assert.throws(() => decodeNative("caf\u00e9\u20ac"), TypeError);
});

test(
  "README's deno serve --host 127.0.0.1 serves server.ts on loopback",
  { skip: onDeno ? false : "runs in the Deno suite" },
  async () => {
    const command = /^deno serve --host 127\.0\.0\.1 --port 8000 server\.ts$/m;
    assert.match(readme, command, "README lost its deno serve --host line");
    assert.match(readme, /`deno serve` listens on `0\.0\.0\.0:8000`/);
    // The README's command, on a free port (0) instead of 8000.
    const child = spawn(
      join(root, "node_modules", ".bin", "deno"),
      ["serve", "--host", "127.0.0.1", "--port", "0", "server.ts"],
      {
        cwd: root,
        // Deno colours its output when FORCE_COLOR is set at all.
        env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise((resolve) => child.on("close", resolve));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        const take = (d: Uint8Array) => {
          output += new TextDecoder().decode(d).replace(/\x1b\[[0-9;]*m/g, "");
          const m = /Listening on (http:\/\/[^\s]+)/.exec(output);
          if (m) resolve(m[1]);
        };
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        exited.then(() => reject(new Error(`deno serve exited: ${output}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^Hello world!/);
    } finally {
      clearTimeout(timer);
      child.kill("SIGTERM");
      await exited;
    }
  },
);
