// docs/python.md's steps, run: its hello.py served by its own command line
// (`wsgi --workers 2 --pythonpath /usr/lib/python3/dist-packages
// hello.py:app`) on this runtime, both routes answered, then SIGHUP
// serving the changed code; and (on Deno) its
// TypeScript block type-checked against the sources.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exchange } from "./_raw_http.ts";
import { latin1, RUNTIME, sleep } from "./_util.ts";
import { startChild } from "./_child.ts";
import { cliCommand, proc, ROOT } from "./_cli_proc.ts";

const g = globalThis as Record<string, unknown>;
const guide = readFileSync(join(ROOT, "docs", "python.md"), "utf8");
const block = (lang: string): string[] =>
  [...guide.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))]
    .map((m) => m[1]);

let pyodide = true;
try {
  const name = "pyodide";
  await import(name);
} catch {
  pyodide = false;
}
const skip = !pyodide
  ? "pyodide is not installed (npm ci)"
  : !existsSync("/usr/lib/python3/dist-packages/flask")
  ? "python3-flask is not installed (apt-get install python3-flask)"
  : false;

// Four Pyodide boots (two workers, twice): seconds each, more on a busy
// machine, so this test has its own bound instead of the suites' 30 s.
test("docs/python.md: its hello.py served by its wsgi --workers 2 command", {
  skip,
  timeout: 240_000,
}, async () => {
  const hello = block("python").find((b) => b.includes("Flask(__name__)"));
  assert.ok(hello, "the guide has hello.py");
  const line = block("sh").flatMap((b) => b.split("\n"))
    .find((l) => l.startsWith("npx wsgi --workers 2"));
  assert.ok(line, "the guide has its wsgi --workers 2 line");
  const dir = mkdtempSync(join(tmpdir(), "wsgi-python-guide-"));
  writeFileSync(join(dir, "hello.py"), hello);
  // The guide's `npx wsgi ...` as this runtime runs the CLI.
  const [cmd, base] = cliCommand();
  const args = line.replace(/^npx wsgi /, "").split(/\s+/);
  const child = startChild(cmd, [...base, ...args, "--port", "0"], {
    cwd: dir,
    env: { ...proc.env, NO_COLOR: "1" },
    timeout: 240_000,
  });
  let code: number | string | null = "still running";
  child.exited.then((e) => void (code = e.code ?? e.signal));
  try {
    // Polled every 50 ms, as before this file used tests/_child.ts: the
    // port line is on stdout, "serving" on stderr, in either order; and
    // "reload done" is logged once the old workers have exited
    // (src/process/_supervisor.ts #reloaded): only new code answers then.
    const deadline = Date.now() + 90_000;
    while (!/wsgi: 2 worker\(s\) serving/.test(child.text())) {
      assert.equal(code, "still running", `the CLI exited: ${child.text()}`);
      assert.ok(
        Date.now() < deadline,
        `no workers after 90 s: ${child.text()}`,
      );
      await sleep(50);
    }
    const port = Number(/port (\d+)/.exec(child.text())![1]);
    const [hi] = await exchange(
      port,
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    assert.equal(hi.status, 200);
    assert.equal(latin1(hi.body), "Hello, World!");
    const body = '{"n": 1}';
    const [echo] = await exchange(
      port,
      `POST /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.deepEqual(JSON.parse(latin1(echo.body)), { "you sent": { n: 1 } });
    // SIGHUP: new workers import the changed Python code (gunicorn's HUP).
    writeFileSync(
      join(dir, "hello.py"),
      hello.replace('"Hello, World!"', '"Hello again"'),
    );
    proc.kill(child.pid, "SIGHUP");
    const reloaded = Date.now() + 90_000;
    while (!/wsgi: reload done/.test(child.text())) {
      assert.ok(Date.now() < reloaded, `no reload after 90 s: ${child.text()}`);
      await sleep(50);
    }
    const [again] = await exchange(
      port,
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    assert.equal(latin1(again.body), "Hello again");
  } finally {
    // By pid, as tests/supervisor.test.ts does (Deno's child.kill() reports
    // the signal as the outcome).
    proc.kill(child.pid, "SIGTERM");
    await Promise.race([child.exited, sleep(15_000)]);
    if (code === "still running") await child.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(code, 0, child.text());
  // The workers' access log, flushed by the time they stop.
  assert.match(child.text(), /"POST \/echo HTTP\/1\.1" 200/);
});

test("docs/python.md: its TypeScript block type-checks", {
  skip: RUNTIME !== "deno" ? "deno check runs in the Deno suite" : skip,
}, () => {
  const [code] = block("ts");
  assert.match(code, /pythonApp\(pyodide, "hello\.py:app"/);
  const dir = mkdtempSync(join(ROOT, ".tmp-guide-"));
  try {
    const file = join(dir, "guide.ts");
    writeFileSync(
      file,
      code.replace('"@wsgi/wsgi/python"', '"../src/python/python_app.ts"')
        .replace('"@wsgi/wsgi"', '"../mod.ts"'),
    );
    const deno = (g.Deno as { execPath(): string }).execPath();
    const r = spawnSync(deno, ["check", file], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
