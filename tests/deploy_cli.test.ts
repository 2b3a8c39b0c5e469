// The command line's deployment traps (issue 17), run for real on this
// runtime: `--pid FILE` names the server's own pid, for signals, and is
// removed on exit; under `npx wsgi`, a signal to npm's pid (which never
// reaches the server) still stops it instead of leaving it serving as an
// orphan; `--bind 8100`, an unknown option and `--help` say what to type.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  alive,
  cleanup,
  cliCommand,
  finish,
  proc,
  ROOT,
  serving,
  startCli,
  wordApp,
  workerPids,
} from "./_cli_proc.ts";
import { RUNTIME, sleep, until } from "./_util.ts";
import { exchange, get, text } from "./_raw_http.ts";
import { startChild } from "./_child.ts";
import { freePort } from "./_nginx.ts";

const APP = "tests/fixtures/workers_app.ts:app";

test("--pid FILE: the server's pid, which takes SIGHUP and SIGTERM; removed on exit (one process and --workers)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-pid-"));
  try {
    for (const workers of [[], ["--workers", "2"]]) {
      const file = join(dir, "app.pid");
      const cli = startCli([
        ...workers,
        "--port",
        "0",
        "-q",
        "--pid",
        file,
        APP,
      ]);
      try {
        await serving(cli);
        assert.equal(readFileSync(file, "utf8"), `${cli.pid}\n`);
        if (workers.length > 0) {
          proc.kill(Number(readFileSync(file, "utf8")), "SIGHUP");
          await cli.wait(/reload done/);
        }
        proc.kill(Number(readFileSync(file, "utf8")), "SIGTERM");
        assert.equal(await cli.exited, 0);
        assert.equal(existsSync(file), false, "the pid file is removed");
      } finally {
        await cleanup(cli);
      }
    }
    const bad = await finish(["--pid", join(dir, "no/such/dir/app.pid"), APP]);
    assert.equal(bad.code, 2);
    assert.equal(bad.err.length, 1, bad.err.join("\n"));
    assert.match(
      bad.err[0],
      /^wsgi: cannot write --pid ".*no\/such\/dir\/app\.pid"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npx wsgi: SIGTERM to npm's pid stops the server and its workers, which said why", async () => {
  // The npm bin runs on Node; npx is the machine's npm.
  if (RUNTIME !== "node") return;
  const dir = mkdtempSync(join(tmpdir(), "wsgi-npx-"));
  const pkg = join(dir, "node_modules", "wsgi");
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  mkdirSync(pkg);
  writeFileSync(join(dir, "package.json"), '{"name":"p","version":"1.0.0"}');
  writeFileSync(
    join(pkg, "package.json"),
    '{"name":"wsgi","version":"0.0.0","bin":{"wsgi":"bin.mjs"}}',
  );
  // As the npm package's bin, on this repository's sources (Node 24).
  writeFileSync(
    join(pkg, "bin.mjs"),
    `#!/usr/bin/env node\nimport(${
      JSON.stringify(join(ROOT, "src/process/cli.ts"))
    }).then((cli) => cli.run());\n`,
    { mode: 0o755 },
  );
  symlinkSync("../wsgi/bin.mjs", join(dir, "node_modules", ".bin", "wsgi"));
  const file = join(dir, "app.pid");
  const cli = startCli(
    [
      "wsgi",
      "--workers",
      "2",
      "--port",
      "0",
      "-q",
      "--pid",
      file,
      join(ROOT, APP),
    ],
    {
      PATH: `${join(ROOT, "node_modules", ".bin")}:${proc.env.PATH}`,
      npm_config_offline: "true",
      npm_config_update_notifier: "false",
    },
    dir,
    ["npx", []],
  );
  let server = 0;
  try {
    await serving(cli);
    server = Number(readFileSync(file, "utf8"));
    assert.notEqual(server, cli.pid, "npm is not the server");
    const workers = workerPids(cli);
    proc.kill(cli.pid, "SIGTERM");
    assert.ok(
      await until(() => !alive(server), 8000),
      `the server ${server} still runs after npm's SIGTERM: ${cli.stderr()}`,
    );
    for (const pid of workers) assert.ok(await until(() => !alive(pid), 3000));
    await cli.wait(/wsgi: npm \(npm exec\) is gone.*node_modules\/\.bin\/wsgi/);
    assert.equal(existsSync(file), false);
  } finally {
    if (server > 0 && alive(server)) proc.kill(server, "SIGKILL");
    await cleanup(cli);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--bind 8100 (a port alone), an unknown option, --help: each says what to type", async () => {
  const bare = await finish(["--bind", "8100", APP]);
  assert.equal(bare.code, 2);
  assert.equal(bare.err.length, 1, bare.err.join("\n"));
  assert.match(
    bare.err[0],
    /--bind 8100 is a port without a host: say --bind 127\.0\.0\.1:8100/,
  );
  for (
    const [typo, meant] of [
      ["--wokers", "--workers"],
      ["--worker", "--workers"],
      ["-workers", "--workers"],
      ["--max-request", "--max-requests"],
      ["--graceful", "--graceful-timeout"],
    ]
  ) {
    const bad = await finish([typo, "2", APP]);
    assert.equal(bad.code, 2);
    assert.equal(bad.err.length, 1, bad.err.join("\n"));
    assert.match(
      bad.err[0],
      new RegExp(`unknown option "${typo}"; did you mean ${meant}\\?`),
    );
  }
  const far = await finish(["--frobnicate", APP]);
  assert.equal(far.code, 2);
  assert.doesNotMatch(far.err[0], /did you mean/);
  const help = await finish(["--help"]);
  assert.equal(help.code, 0);
  for (const short of ["-w", "-b", "-p", "-t", "-q", "-h"]) {
    assert.match(help.out, new RegExp(`, ${short}\\b`), `${short} in --help`);
  }
  assert.match(help.out, /--pid FILE/);
});

test("Deno --workers: docs/deploy.md's app.ts and deno.json (import map) serve from workers, the config found from the working directory or given by --config", async () => {
  // Only Deno reads deno.json.
  if (RUNTIME !== "deno") return;
  const dir = mkdtempSync(join(tmpdir(), "wsgi-denojson-"));
  try {
    // docs/deploy.md's app.ts and deno.json, as written, "wsgi" mapped to
    // this repository instead of JSR.
    const page = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
    const section = page.slice(page.indexOf("## The application"));
    const appTs = /```ts ignore\n([\s\S]*?)```/.exec(section)![1];
    const denoJson = /```json\n([\s\S]*?)```/.exec(section)![1];
    assert.match(denoJson, /"wsgi": "jsr:@wsgi\/wsgi"/);
    writeFileSync(
      join(dir, "deno.json"),
      denoJson.replace("jsr:@wsgi/wsgi", join(ROOT, "mod.ts")),
    );
    writeFileSync(join(dir, "app.ts"), appTs);
    const deno = (globalThis as unknown as { Deno: { execPath(): string } })
      .Deno.execPath();
    const runs: [string, string[]][] = [
      // From the app's folder, as docs/deploy.md says.
      [dir, ["run", "-A", join(ROOT, "mod.ts"), "app.ts:app"]],
      // From elsewhere, with --config.
      [ROOT, [
        "run",
        "-A",
        "--config",
        join(dir, "deno.json"),
        join(ROOT, "mod.ts"),
        join(dir, "app.ts") + ":app",
      ]],
    ];
    for (const [cwd, base] of runs) {
      const cli = startCli(
        ["--workers", "2", "--port", "0", "-q"],
        {},
        cwd,
        [deno, base],
      );
      try {
        const port = await serving(cli);
        assert.equal(workerPids(cli).length, 2);
        const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
        assert.equal(page, "¡Hola, mundo!");
        proc.kill(cli.pid, "SIGTERM");
        assert.equal(await cli.exited, 0);
      } finally {
        await cleanup(cli);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--reload sees every replace-by-rename edit (as sed -i and editors save), not only the first", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgi-rename-"));
  const file = join(dir, "app.mjs");
  const source = wordApp;
  writeFileSync(file, source("v0"));
  const cli = startCli(["--reload", "--port", "0", "-q", `${file}:app`]);
  try {
    const port = await serving(cli);
    const body = async () =>
      await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.equal(await body(), "v0");
    for (const word of ["v1", "v2", "v3"]) {
      await sleep(300);
      const done = (cli.stderr().match(/reload done/g) ?? []).length;
      // Written to a temporary file, then renamed over the module.
      writeFileSync(`${file}.tmp`, source(word));
      renameSync(`${file}.tmp`, file);
      assert.ok(
        await until(
          () => (cli.stderr().match(/reload done/g) ?? []).length > done,
          10000,
        ),
        `edit ${word} not seen: ${cli.stderr()}`,
      );
      let seen = "";
      for (let i = 0; i < 50 && seen !== word; i++) {
        seen = await body();
        if (seen !== word) await sleep(50);
      }
      assert.equal(seen, word);
    }
    proc.kill(cli.pid, "SIGTERM");
    assert.equal(await cli.exited, 0);
  } finally {
    await cleanup(cli);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("docs/deploy.md's all cores on Deno: DENO_JOBS=2 deno serve --parallel server.ts serves, SIGTERM stops it", async () => {
  if (RUNTIME !== "deno") return;
  const deno = (globalThis as unknown as { Deno: { execPath(): string } })
    .Deno.execPath();
  const cli = startCli(
    [],
    { DENO_JOBS: "2" },
    ROOT,
    [deno, [
      "serve",
      "--parallel",
      "--allow-net",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "server.ts",
    ]],
  );
  try {
    const m = await cli.wait(
      // Deno colours it when FORCE_COLOR is set (as npm test does).
      /Listening on (?:\x1b\[\d+m)*http:\/\/127\.0\.0\.1:(\d+)\/(?:\x1b\[\d+m)* with 2 threads/,
    );
    const page = await (await fetch(`http://127.0.0.1:${m[1]}/`)).text();
    assert.match(page, /Hello world!/);
    proc.kill(cli.pid, "SIGTERM");
    await cli.exited;
  } finally {
    await cleanup(cli);
  }
});

test("docs/deploy.md's all cores in code: makeServer(host, port, app, { reusePort: true }) in two processes, both answer on one port", async () => {
  const [exe, args] = cliCommand();
  const script = join(ROOT, "tests/fixtures/reuse_port_server.ts");
  const port = await freePort();
  const servers = [0, 1].map(() =>
    // Deno's reusePort is unstable: the page says to pass --unstable-net.
    startChild(exe, [
      ...args.slice(0, -1),
      ...(RUNTIME === "deno" ? ["--unstable-net"] : []),
      script,
    ], {
      cwd: ROOT,
      env: { ...proc.env, PORT: String(port), NO_COLOR: "1" },
      timeout: 60_000,
    })
  );
  try {
    for (const s of servers) await s.waitFor(/serving http/, { ms: 20000 });
    // The kernel spreads new connections by their addresses: 40 of them
    // reach both processes but for a chance of 2^-39.
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const [response] = await exchange(
        port,
        get("/", "Connection: close\r\n"),
      );
      seen.add(text(response));
    }
    assert.deepEqual(
      [...seen].sort(),
      servers.map((s) => String(s.pid)).sort(),
    );
  } finally {
    for (const s of servers) await s.stop();
  }
});
