// Log files: an access log appended to a file and reopened after it was
// moved (logrotate), in one process (reopenLogFiles) and through the
// command line with two workers (SIGUSR1 to the parent, under load): no
// line lost or doubled across the old and the new file. Real processes and
// sockets on the runtime running this file; every process is stopped by
// pid and every load loop is bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeServer, reopenLogFiles } from "../mod.ts";
import { exchange, get } from "./_raw_http.ts";
import { sleep, within } from "./_util.ts";
import { startChild } from "./_child.ts";
import { cliCommand, proc, ROOT } from "./_cli_proc.ts";

const hello = (
  _e: unknown,
  start: (s: string, h: [string, string][]) => void,
) => {
  start("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode("hi")];
};

/** The lines of a file ("" when it does not exist). */
function linesOf(path: string): string[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch { /* none */ }
  assert.ok(text === "" || text.endsWith("\n"), "the file ends a line");
  return text.split("\n").slice(0, -1);
}

test("one process: reopenLogFiles() after a move: each line in exactly one file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-logs-"));
  const path = join(dir, "access.log");
  const server = makeServer("127.0.0.1", 0, hello, {
    accessLog: { file: path, format: "%(U)s %(s)s" },
  });
  await server.ready;
  try {
    for (let i = 0; i < 20; i++) {
      await exchange(server.serverPort, get(`/a${i}`, "Connection: close\r\n"));
    }
    renameSync(path, path + ".1");
    reopenLogFiles();
    for (let i = 0; i < 20; i++) {
      await exchange(server.serverPort, get(`/b${i}`, "Connection: close\r\n"));
    }
  } finally {
    await server.shutdown();
  }
  assert.deepEqual(
    linesOf(path + ".1"),
    Array.from({ length: 20 }, (_, i) => `/a${i} 200`),
  );
  assert.deepEqual(
    linesOf(path),
    Array.from({ length: 20 }, (_, i) => `/b${i} 200`),
  );
  rmSync(dir, { recursive: true, force: true });
});

test("--workers 2: SIGUSR1 after moving the access log, under load: no line lost or doubled", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-rotate-"));
  const path = join(dir, "access.log");
  const errors = join(dir, "error.log");
  const port = 20000 + Math.floor(Math.random() * 20000);
  const [cmd, base] = cliCommand();
  const child = startChild(cmd, [
    ...base,
    "tests/fixtures/workers_app.ts:app",
    "--port",
    String(port),
    "--workers",
    "2",
    "--access-logfile",
    path,
    "--access-logformat",
    "%(U)s %(s)s %(p)s",
    "--error-logfile",
    errors,
  ], { cwd: ROOT, env: { ...proc.env, NO_COLOR: "1" }, timeout: 120_000 });
  const workerPids = (): number[] =>
    [...readFileSafe(errors).matchAll(/worker (\d+) booting/g)].map((m) =>
      Number(m[1])
    );
  try {
    // The server's own messages go to --error-logfile.
    const deadline = Date.now() + 20_000;
    while (!/2 worker\(s\) serving/.test(readFileSafe(errors))) {
      assert.ok(Date.now() < deadline, `never served: ${child.text()}`);
      await sleep(50);
    }
    // Bounded load: 300 requests, four at a time; the log is moved and the
    // parent signalled after the first 100 are sent.
    const TOTAL = 300;
    let sent = 0;
    let ok = 0;
    const worker = async (): Promise<void> => {
      while (sent < TOTAL) {
        const i = sent++;
        if (i === 100) {
          renameSync(path, path + ".1");
          proc.kill(child.pid, "SIGUSR1");
        }
        const [res] = await exchange(
          port,
          get(`/r${i}`, "Connection: close\r\n"),
        );
        if (res.status === 200) ok++;
      }
    };
    await within(
      Promise.all([worker(), worker(), worker(), worker()]),
      60_000,
      "the load",
    );
    assert.equal(ok, TOTAL, "every request served");
    // A last request well after the signal reaches a reopened file.
    await sleep(300);
    await within(child.stop("SIGTERM", 20_000), 25_000, "the server's exit");
    const old = linesOf(path + ".1");
    const fresh = linesOf(path);
    const all = [...old, ...fresh];
    for (const line of all) assert.match(line, /^\/r\d+ 200 <\d+>$/, line);
    const paths = all.map((l) => l.split(" ")[0]);
    assert.equal(new Set(paths).size, paths.length, "no line doubled");
    assert.equal(paths.length, TOTAL, "no line lost");
    assert.ok(old.length >= 50, `${old.length} lines in the moved file`);
    assert.ok(fresh.length >= 50, `${fresh.length} lines in the new file`);
    // Both workers wrote to both files.
    const pids = (lines: string[]) =>
      new Set(lines.map((l) => l.split(" ")[2]));
    assert.equal(pids(old).size, 2, "both workers in the old file");
    assert.equal(pids(fresh).size, 2, "both workers in the new file");
    assert.match(readFileSafe(errors), /SIGUSR1: log files reopened/);
  } finally {
    await child.stop("SIGKILL");
    for (const pid of workerPids()) {
      try {
        proc.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

test("one process: --error-logfile takes the app's traceback, --access-logfile the line; SIGWINCH reopens too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-errlog-"));
  const access = join(dir, "access.log");
  const errors = join(dir, "error.log");
  const [cmd, base] = cliCommand();
  const child = startChild(cmd, [
    ...base,
    "tests/fixtures/log_app.ts:app",
    "--port",
    "0",
    "--access-logfile",
    access,
    "--error-logfile",
    errors,
  ], { cwd: ROOT, env: { ...proc.env, NO_COLOR: "1" }, timeout: 60_000 });
  try {
    const port = Number((await child.waitFor(/port (\d+)/))[1]);
    const [boom] = await exchange(port, get("/boom", "Connection: close\r\n"));
    assert.equal(boom.status, 500);
    renameSync(access, access + ".1");
    proc.kill(child.pid, "SIGWINCH");
    await sleep(300);
    const [ok] = await exchange(port, get("/ok", "Connection: close\r\n"));
    assert.equal(ok.status, 200);
    await within(child.stop("SIGTERM", 10_000), 15_000, "the exit");
    assert.match(readFileSafe(errors), /Error: boom in the app/);
    assert.doesNotMatch(child.text("stderr"), /boom in the app/);
    assert.deepEqual(
      linesOf(access + ".1").map((l) =>
        / "GET (\S+) HTTP\/1\.1" (\d+)/.exec(l)?.slice(1).join(" ")
      ),
      ["/boom 500"],
    );
    assert.deepEqual(
      linesOf(access).map((l) =>
        / "GET (\S+) HTTP\/1\.1" (\d+)/.exec(l)?.slice(1).join(" ")
      ),
      ["/ok 200"],
    );
  } finally {
    await child.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
