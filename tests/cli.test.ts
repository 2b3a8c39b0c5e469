// The command line, run for real on the current runtime: `deno run
// --allow-net --allow-read mod.ts ...` under deno test, `bun mod.ts ...`
// under bun test, and under node --test a small script that imports
// src/process/cli.ts and calls run() (tests/fixtures/node_cli.ts, as the npm
// package's bin does). Each test spawns the process, talks to it over
// HTTP, and stops it with a signal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer as netServer, type Server } from "node:net";
import { join } from "node:path";
import { RUNTIME, sleep, within } from "./_util.ts";
import {
  cleanup,
  type Cli,
  cliCommand,
  proc,
  ROOT,
  serving,
  startCli,
} from "./_cli_proc.ts";

const FIXTURE = "tests/fixtures/hello_app.ts";

/** The CLI as a user runs it; on Deno with only --allow-net and --allow-read. */
function command(): [string, string[]] {
  const [cmd, base] = cliCommand();
  if (RUNTIME !== "deno") return [cmd, base];
  return [cmd, ["run", "--allow-net", "--allow-read", join(ROOT, "mod.ts")]];
}

/** Starts the CLI from the repo root (its processes stopped by pid). */
const start = (args: string[]): Cli => startCli(args, {}, ROOT, command());

const SERVING =
  /^Serving HTTP on 127\.0\.0\.1 port (\d+) \(http:\/\/127\.0\.0\.1:(\d+)\/\) \.\.\.$/m;

/** Waits for the "Serving HTTP on" line, on stdout; the base URL. */
async function servingUrl(cli: Cli): Promise<string> {
  const port = await serving(cli);
  assert.match(cli.stdout(), SERVING);
  return `http://127.0.0.1:${port}/`;
}

async function getText(url: string): Promise<string> {
  const response = await within(fetch(url), 5000, `fetch ${url}`);
  assert.equal(response.status, 200);
  return await within(response.text(), 5000, `body of ${url}`);
}

/** Runs a CLI that must fail at once; its exit code and stderr lines. */
async function failing(args: string[]): Promise<[number | string, string[]]> {
  const cli = start(args);
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
  const cli = start(["--port", "0", "--quiet"]);
  try {
    const url = await servingUrl(cli);
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
    proc.kill(cli.pid, sig);
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
  const cli = start([FIXTURE, "--port", "0", "-q"]);
  try {
    const url = await servingUrl(cli);
    assert.equal(await getText(`${url}x`), "hello from default at /x");
    proc.kill(cli.pid, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
  } finally {
    await cleanup(cli);
  }
});

test("cli: MODULE:NAME serves the named export", async () => {
  const cli = start([`${FIXTURE}:shout`, "--port=0", "--quiet"]);
  try {
    const url = await servingUrl(cli);
    assert.equal(await getText(`${url}y`), "HELLO FROM SHOUT AT /y");
    proc.kill(cli.pid, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
  } finally {
    await cleanup(cli);
  }
});

const ACCESS =
  /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4} \d{2}:\d{2}:\d{2}\] "GET \/logged HTTP\/1\.1" 200 \d+$/m;

test("cli: the access log goes to stderr by default", async () => {
  const cli = start(["--port", "0"]);
  try {
    const url = await servingUrl(cli);
    await getText(`${url}logged`);
    await cli.wait(ACCESS, 5000);
    assert.match(cli.stderr(), ACCESS);
    proc.kill(cli.pid, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
  } finally {
    await cleanup(cli);
  }
});

test("cli: --quiet silences the access log", async () => {
  const cli = start(["--port", "0", "--quiet"]);
  try {
    const url = await servingUrl(cli);
    await getText(`${url}logged`);
    await sleep(300);
    assert.doesNotMatch(cli.stderr(), /\S/);
    proc.kill(cli.pid, "SIGINT");
    assert.equal(await within(cli.exited, 10000, "exit"), 0);
    assert.equal(cli.stderr(), "");
  } finally {
    await cleanup(cli);
  }
});

test("cli: --help prints the usage and exits 0", async () => {
  const cli = start(["--help"]);
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
