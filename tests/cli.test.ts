// The command line, run for real on the current runtime: `deno run
// --allow-net --allow-read mod.ts ...` under deno test, `bun mod.ts ...`
// under bun test, and under node --test a small script that imports
// src/process/cli.ts and calls run() (tests/fixtures/node_cli.ts, as the npm
// package's bin does). Each test spawns the process, talks to it over
// HTTP, and stops it with a signal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer as netServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIME, within } from "./_util.ts";

const g = globalThis as Record<string, unknown>;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = "tests/fixtures/hello_app.ts";

/** The command that runs the CLI on this runtime, from the repo root. */
function command(): [string, string[]] {
  const proc = g.process as { execPath: string };
  if (RUNTIME === "deno") {
    const deno = g.Deno as { execPath(): string };
    return [deno.execPath(), [
      "run",
      "--allow-net",
      "--allow-read",
      "mod.ts",
    ]];
  }
  if (RUNTIME === "bun") return [proc.execPath, ["mod.ts"]];
  return [proc.execPath, ["tests/fixtures/node_cli.ts"]];
}

interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Waits for stdout to match; rejects at the exit or after `ms`. */
  waitStdout(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Waits for stderr to match; null after `ms`. */
  waitStderr(re: RegExp, ms?: number): Promise<RegExpExecArray | null>;
}

const live = new Set<ChildProcess>();

/**
 * Signals the process by pid. Not `child.kill()`: Deno's node:child_process
 * then reports the signal sent as the cause of death even when the child
 * handled it and exited 0 (measured on Deno 2.9.6).
 */
function signal(child: ChildProcess, name: "SIGINT" | "SIGTERM"): void {
  (g.process as { kill(pid: number, signal: string): void }).kill(
    child.pid!,
    name,
  );
}

function startCli(args: string[]): Cli {
  const [cmd, base] = command();
  const child = spawn(cmd, [...base, ...args], {
    cwd: ROOT,
    env: {
      ...(g.process as { env: Record<string, string> }).env,
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "";
  let err = "";
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => {
    out += d;
    notify();
  });
  child.stderr!.on("data", (d: string) => {
    err += d;
    notify();
  });
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once("close", (code, signal) => {
      done = true;
      live.delete(child);
      notify();
      resolve(code ?? signal ?? "unknown");
    });
  });
  const wait = async (
    read: () => string,
    re: RegExp,
    ms: number,
  ): Promise<RegExpExecArray | null> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(read());
      if (m) return m;
      if (done || Date.now() >= deadline) return null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
      clearTimeout(timer);
    }
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitStdout(re, ms = 10000) {
      const m = await wait(() => out, re, ms);
      if (m) return m;
      throw new Error(
        `stdout never matched ${re} (${
          done ? "the process exited" : `${ms} ms`
        }); stdout: ${JSON.stringify(out)}; stderr: ${JSON.stringify(err)}`,
      );
    },
    waitStderr: (re, ms = 5000) => wait(() => err, re, ms),
  };
}

/** Kills what a test left running (by pid), and waits for it. */
async function cleanup(cli: Cli): Promise<void> {
  if (live.has(cli.child)) {
    cli.child.kill("SIGKILL");
    await cli.exited;
  }
}

const SERVING =
  /^Serving HTTP on 127\.0\.0\.1 port (\d+) \(http:\/\/127\.0\.0\.1:(\d+)\/\) \.\.\.$/m;

/** Starts the CLI and waits for its "Serving HTTP on" line; the base URL. */
async function serving(cli: Cli): Promise<string> {
  const m = await cli.waitStdout(SERVING);
  assert.equal(m[1], m[2]);
  assert.ok(Number(m[1]) > 0);
  return `http://127.0.0.1:${m[1]}/`;
}

async function getText(url: string): Promise<string> {
  const response = await within(fetch(url), 5000, `fetch ${url}`);
  assert.equal(response.status, 200);
  return await within(response.text(), 5000, `body of ${url}`);
}

/** Runs a CLI that must fail at once; its exit code and stderr lines. */
async function failing(args: string[]): Promise<[number | string, string[]]> {
  const cli = startCli(args);
  try {
    const code = await within(cli.exited, 15000, "the CLI's exit");
    const lines = cli.stderr().split("\n").filter((l) => l !== "");
    return [code, lines];
  } finally {
    await cleanup(cli);
  }
}

function assertUsageError(
  [code, lines]: [number | string, string[]],
  mention: RegExp,
): void {
  assert.equal(lines.length, 1, `stderr: ${JSON.stringify(lines)}`);
  assert.match(lines[0], /^wsgi: /);
  assert.match(lines[0], mention);
  assert.doesNotMatch(lines[0], /\n\s+at /);
  assert.equal(code, 2);
}

async function demoAppThenSignal(sig: "SIGINT" | "SIGTERM") {
  const cli = startCli(["--port", "0", "--quiet"]);
  try {
    const url = await serving(cli);
    const body = await getText(`${url}demo?x=1`);
    const [first, blank, ...rest] = body.split("\n");
    assert.equal(first, "Hello world!");
    assert.equal(blank, "");
    const lines = rest.filter((l) => l !== "");
    const keys = lines.map((l) => l.split(" = ")[0]);
    assert.deepEqual(keys, [...keys].sort());
    assert.ok(lines.includes("PATH_INFO = '/demo'"), body);
    assert.ok(lines.includes("QUERY_STRING = 'x=1'"), body);
    assert.ok(lines.includes("REQUEST_METHOD = 'GET'"), body);
    assert.ok(lines.includes(`SERVER_PORT = '${new URL(url).port}'`), body);
    assert.ok(keys.includes("wsgi.input"), body);
    signal(cli.child, sig);
    assert.equal(await within(cli.exited, 10000, "exit after " + sig), 0);
  } finally {
    await cleanup(cli);
  }
}

test("cli: no MODULE serves the demo app; SIGINT exits 0", async () => {
  await demoAppThenSignal("SIGINT");
});

test("cli: SIGTERM shuts down and exits 0", async () => {
  await demoAppThenSignal("SIGTERM");
});

test("cli: MODULE serves its default export", async () => {
  const cli = startCli([FIXTURE, "--port", "0", "-q"]);
  try {
    const url = await serving(cli);
    assert.equal(await getText(`${url}x`), "hello from default at /x");
    signal(cli.child, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
  } finally {
    await cleanup(cli);
  }
});

test("cli: MODULE:NAME serves the named export", async () => {
  const cli = startCli([`${FIXTURE}:shout`, "--port=0", "--quiet"]);
  try {
    const url = await serving(cli);
    assert.equal(await getText(`${url}y`), "HELLO FROM SHOUT AT /y");
    signal(cli.child, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
  } finally {
    await cleanup(cli);
  }
});

const ACCESS =
  /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4} \d{2}:\d{2}:\d{2}\] "GET \/logged HTTP\/1\.1" 200 \d+$/m;

test("cli: the access log goes to stderr by default", async () => {
  const cli = startCli(["--port", "0"]);
  try {
    const url = await serving(cli);
    await getText(`${url}logged`);
    assert.ok(await cli.waitStderr(ACCESS), `stderr: ${cli.stderr()}`);
    signal(cli.child, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
  } finally {
    await cleanup(cli);
  }
});

test("cli: --quiet silences the access log", async () => {
  const cli = startCli(["--port", "0", "--quiet"]);
  try {
    const url = await serving(cli);
    await getText(`${url}logged`);
    assert.equal(await cli.waitStderr(/\S/, 300), null);
    signal(cli.child, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
    assert.equal(cli.stderr(), "");
  } finally {
    await cleanup(cli);
  }
});

test("cli: --help prints the usage and exits 0", async () => {
  const cli = startCli(["--help"]);
  try {
    assert.equal(await within(cli.exited, 15000, "exit"), 0);
    assert.match(cli.stdout(), /^Usage: wsgi \[MODULE\[:NAME\]\]/);
    assert.match(cli.stdout(), /--quiet/);
    assert.equal(cli.stderr(), "");
  } finally {
    await cleanup(cli);
  }
});

test("cli: a module that cannot be imported: one 'wsgi:' line, exit 2", async () => {
  assertUsageError(
    await failing(["tests/fixtures/no_such_module.ts", "--port", "0"]),
    /no_such_module\.ts/,
  );
});

test("cli: a missing export: one 'wsgi:' line, exit 2", async () => {
  assertUsageError(
    await failing([`${FIXTURE}:nope`, "--port", "0"]),
    /"nope"/,
  );
  assertUsageError(
    await failing([`${FIXTURE}:notAnApp`, "--port", "0"]),
    /"notAnApp".*number/,
  );
});

test("cli: a bad --port: one 'wsgi:' line, exit 2", async () => {
  assertUsageError(await failing(["--port", "http"]), /"http"/);
  assertUsageError(await failing(["--port", "70000"]), /"70000"/);
});

test("cli: a port in use: one 'wsgi:' line, exit 2", async () => {
  const blocker: Server = netServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once("error", reject);
    blocker.listen(0, "127.0.0.1", resolve);
  });
  try {
    const port = (blocker.address() as { port: number }).port;
    assertUsageError(
      await failing(["--port", String(port)]),
      new RegExp(`127\\.0\\.0\\.1:${port}.*address already in use`),
    );
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
