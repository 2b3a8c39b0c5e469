// The default access log: batched writes to stderr that lose no line, keep
// lines whole and in order, and never write more than PIPE_BUF bytes at
// once (so that processes sharing one stderr pipe never split each
// other's lines). The batcher is checked with a recording sink; the
// runtime's real stderr with child processes (tests/fixtures/log_child.ts
// and the command line) on the runtime running this file, whose stderr
// lines are counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  accessLine,
  escapeLog,
  LineBatcher,
  logTime,
  nowLogTime,
  PIPE_BUF,
} from "../src/core/_access_log.ts";
import { RUNTIME } from "./_util.ts";
import { consoleErrors } from "../src/core/_errors.ts";

const g = globalThis as Record<string, unknown>;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHILD = "tests/fixtures/log_child.ts";
const encoder = new TextEncoder();

// ------------------------------------------------------------ the batcher

/** A batcher whose writes are recorded. */
function recorded(): { batcher: LineBatcher; writes: string[] } {
  const writes: string[] = [];
  const batcher = new LineBatcher((text, bytes) => {
    assert.equal(bytes, encoder.encode(text).length, "byte count");
    writes.push(text);
  });
  return { batcher, writes };
}

for (const latin1 of [false, true]) {
  test(
    `batcher: lines come out whole, in order, in writes of at most PIPE_BUF bytes (${
      latin1 ? "some latin-1" : "ASCII"
    })`,
    () => {
      const { batcher, writes } = recorded();
      const lines: string[] = [];
      for (let i = 0; i < 2000; i++) {
        // Lengths from 1 to ~950 characters, some of them latin-1 (two UTF-8
        // bytes each), so that batches end at every possible place.
        const fill = (latin1 && i % 7 === 0 ? "é" : "x").repeat((i * 37) % 950);
        lines.push(`${i} ${fill}`);
      }
      for (const line of lines) batcher.line(line);
      batcher.flush();
      for (const w of writes) {
        assert.ok(w.endsWith("\n"), "a write ends a line");
        assert.ok(
          encoder.encode(w).length <= PIPE_BUF,
          `a write of ${encoder.encode(w).length} bytes`,
        );
      }
      assert.deepEqual(writes.join("").split("\n").slice(0, -1), lines);
      assert.ok(writes.length < lines.length / 2, `${writes.length} writes`);
    },
  );
}

test("batcher: a line longer than PIPE_BUF is written alone, whole", () => {
  const { batcher, writes } = recorded();
  const long = "y".repeat(PIPE_BUF + 100);
  batcher.line("before");
  batcher.line(long);
  batcher.line("after");
  batcher.flush();
  assert.deepEqual(writes, ["before\n", long + "\n", "after\n"]);
});

test("batcher: a burst becomes a few writes, and a quiet moment writes what is held", async () => {
  const { batcher, writes } = recorded();
  for (let i = 0; i < 100; i++) batcher.line(`line ${i}`);
  // Held, not written line by line.
  assert.equal(writes.length, 0);
  const start = Date.now();
  while (writes.length === 0 && Date.now() - start < 2000) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(writes.length, 1, "one timed write for 100 short lines");
  assert.equal(writes[0].split("\n").length - 1, 100);
  batcher.flush();
  assert.equal(writes.length, 1, "nothing left to write");
});

test("batcher: lines held are written before a traceback goes to stderr (wsgi.errors)", () => {
  const { batcher, writes } = recorded();
  batcher.line("GET /before");
  assert.equal(writes.length, 0);
  // The default wsgi.errors writes to stderr at once: what the access log
  // holds goes first, so stderr keeps the order of events.
  consoleErrors.write("(access_log.test: a traceback would stand here)\n");
  assert.deepEqual(writes, ["GET /before\n"]);
});

test("log line: the cached date is the current second's, in wsgiref's format", () => {
  const before = logTime();
  const now = nowLogTime();
  const after = logTime();
  assert.ok(now === before || now === after, `${now} vs ${before}/${after}`);
  assert.match(now, /^\d\d\/[A-Z][a-z]{2}\/\d{4} \d\d:\d\d:\d\d$/);
  assert.equal(
    accessLine("127.0.0.1", "GET", "/a\\b\x1b", "HTTP/1.1", 200, null),
    `127.0.0.1 - - [${nowLogTime()}] "GET /a\\\\b\\x1b HTTP/1.1" 200 -`,
  );
  assert.equal(escapeLog("plain"), "plain");
});

// ------------------------------------------------------- child processes

/** The command running a TypeScript file on this runtime. */
function runtimeCommand(file: string): [string, string[]] {
  const proc = g.process as { execPath: string };
  if (RUNTIME === "deno") {
    const deno = g.Deno as { execPath(): string };
    return [deno.execPath(), ["run", "-A", file]];
  }
  return [proc.execPath, [file]];
}

interface Ran {
  code: number | string;
  stdout: string;
  stderr: string;
}

/**
 * Runs a child to its end (killed by pid after `ms`), collecting its
 * output; `onStdout` sees stdout as it comes.
 */
function run(
  cmd: string,
  args: string[],
  ms = 15_000,
  onStdout?: (text: string, child: ChildProcess) => void,
): Promise<Ran> {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: {
      ...(g.process as { env: Record<string, string> }).env,
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (s: string) => {
    stdout += s;
    onStdout?.(stdout, child);
  });
  child.stderr!.on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => {
    try {
      (g.process as { kill(pid: number, s: string): void }).kill(
        child.pid!,
        "SIGKILL",
      );
    } catch {
      // Gone already.
    }
  }, ms);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? "?", stdout, stderr });
    });
  });
}

const LINE = /^127\.0\.0\.1 - - \[[^\]]+\] "GET (\/\d+)x* HTTP\/1\.1" 200 2$/;

/** The request paths of the access lines, checking that every line is one. */
function paths(stderr: string, extra: string[] = []): string[] {
  const out: string[] = [];
  for (const line of stderr.split("\n")) {
    if (line === "" || extra.includes(line)) continue;
    const m = LINE.exec(line);
    assert.ok(m, `not a whole access-log line: ${JSON.stringify(line)}`);
    out.push(m[1]);
  }
  return out;
}

const range = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `/${i}`);

test("stderr: every line is written when the process exits without a shutdown", async () => {
  const [cmd, args] = runtimeCommand(CHILD);
  const ran = await run(cmd, [...args, "exit", "300"]);
  assert.equal(ran.code, 0, ran.stderr);
  // One request at a time: the lines are in the order of the requests.
  assert.deepEqual(paths(ran.stderr), range(300));
});

test("stderr: shutdown() writes every line before it resolves (a burst, 8 at a time)", async () => {
  const [cmd, args] = runtimeCommand(CHILD);
  const ran = await run(cmd, [...args, "shutdown", "400", "8"]);
  assert.equal(ran.code, 0, ran.stderr);
  const lines = ran.stderr.split("\n");
  const done = lines.indexOf("SHUTDOWN DONE");
  assert.ok(done !== -1, ran.stderr.slice(-500));
  const before = paths(lines.slice(0, done).join("\n"));
  assert.deepEqual([...before].sort(), range(400).sort());
  assert.deepEqual(paths(lines.slice(done + 1).join("\n")), []);
});

test("stderr: two processes on one pipe never split each other's lines", async () => {
  const [cmd, args] = runtimeCommand(CHILD);
  const quoted = [cmd, ...args, "exit", "150", "4", "1500"]
    .map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  // Both children inherit the shell's stderr: one pipe, two writers, lines
  // of about 1.6 KB (two or three a write).
  const ran = await run("sh", ["-c", `${quoted} & ${quoted} & wait`], 30_000);
  assert.equal(ran.code, 0, ran.stderr.slice(-500));
  const seen = paths(ran.stderr);
  assert.equal(seen.length, 300);
  assert.deepEqual(
    [...new Set(seen)].sort(),
    range(150).sort(),
    "each path twice",
  );
});

test("stderr: SIGTERM to the command line loses no line", async () => {
  const proc = g.process as { execPath: string };
  const [cmd, base] = RUNTIME === "deno"
    ? [(g.Deno as { execPath(): string }).execPath(), [
      "run",
      "--allow-net",
      "--allow-read",
      "mod.ts",
    ]]
    : RUNTIME === "bun"
    ? [proc.execPath, ["mod.ts"]]
    : [proc.execPath, ["tests/fixtures/node_cli.ts"]];
  let started = false;
  const ran = await run(
    cmd,
    [...base, "tests/fixtures/hello_app.ts", "--port", "0"],
    20_000,
    (stdout, child) => {
      const m = /127\.0\.0\.1:(\d+)/.exec(stdout) ??
        /port (\d+)/.exec(stdout);
      if (!m || started) return;
      started = true;
      (async () => {
        for (let i = 0; i < 200; i++) {
          const r = await fetch(`http://127.0.0.1:${m[1]}/${i}`);
          await r.arrayBuffer();
        }
        (g.process as { kill(pid: number, s: string): void }).kill(
          child.pid!,
          "SIGTERM",
        );
      })().catch(() => {});
    },
  );
  assert.ok(started, ran.stdout + ran.stderr);
  assert.equal(ran.code, 0, ran.stderr.slice(-500));
  const lines = ran.stderr.split("\n").filter((l) => l !== "");
  const logged = lines.filter((l) => / "GET \/\d+ HTTP\/1\.1" 200 \d+$/.test(l))
    .map((l) => / "GET (\/\d+) /.exec(l)![1]);
  assert.deepEqual(logged, range(200));
});
