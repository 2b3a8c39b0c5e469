// systemd, for real on the current runtime: Debian's systemd-socket-activate
// binds a TCP port and a unix socket, passes them as fds 3 and 4
// (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) and execs the CLI, which serves
// them; a python3 datagram socket stands in for $NOTIFY_SOCKET and hears
// READY=1, RELOADING=1 (+ MONOTONIC_USEC) then READY=1 on SIGHUP, and
// STOPPING=1 on SIGTERM. The first connection is made before the server
// has started (the activator execs on it): it is answered, not lost.
// Every process is stopped by pid.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connect,
  connectTls,
  exchange,
  get,
  RawConnection,
  text,
} from "./_raw_http.ts";
import { sleep } from "./_util.ts";
import { listenFds } from "../src/process/_systemd.ts";
import { type Child, run, startChild } from "./_child.ts";
import { cliCommand, proc, ROOT } from "./_cli_proc.ts";
import { makeCerts } from "./_certs.ts";

const APP = "tests/fixtures/workers_app.ts:app";
const ACTIVATE = "/usr/bin/systemd-socket-activate";
const PYTHON = "/usr/bin/python3";
const SKIP = !existsSync(ACTIVATE)
  ? "needs systemd-socket-activate (Debian's systemd package; .ci/run installs it)"
  : !existsSync("/usr/bin/systemd-notify") && !existsSync("/bin/systemd-notify")
  ? "needs systemd-notify (Debian's systemd package): the CLI sends by it"
  : !existsSync(PYTHON)
  ? "needs /usr/bin/python3 for the NOTIFY_SOCKET listener"
  : false;

/** Starts `cmd` from the repo root (killed after 120 s at the latest). */
function start(cmd: string[]): Child {
  return startChild(cmd[0], cmd.slice(1), {
    cwd: ROOT,
    env: { ...proc.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
}

async function waitFor<T>(
  what: string,
  probe: () => T | null | undefined | false,
  ms = 20000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = probe();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The listener's messages so far, each a list of KEY=VALUE fields. */
function messages(listener: Child): string[][] {
  return listener.text().split("\n").filter((l) => l.startsWith("["))
    .map((l) => JSON.parse(l));
}

function kill(p: Child): void {
  try {
    if (p.process.exitCode === null) proc.kill(p.pid, "SIGKILL");
  } catch { /* gone */ }
}

/** A GET over the unix socket at `path`; the body. */
async function askUnix(path: string): Promise<string> {
  const socket = netConnect({ path });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const conn = new RawConnection(socket);
  try {
    await conn.write(get("/", "Connection: close\r\n"));
    return text(await conn.readResponse());
  } finally {
    conn.destroy();
  }
}

async function ask(port: number, path = "/"): Promise<string> {
  const [response] = await exchange(
    port,
    get(path, "Connection: close\r\n"),
  );
  assert.equal(response.status, 200);
  return text(response);
}

/**
 * Starts the notify listener and the activator with the CLI behind it
 * (retrying another random port if one is taken); the first request is
 * sent at once, before the server has started.
 */
async function activated(cliArgs: string[], notify: string, dir: string) {
  const listener = start([PYTHON, "tests/fixtures/notify_listener.py", notify]);
  await waitFor("the notify listener", () => messages(listener).length > 0);
  const sock = join(dir, "wsgi.sock");
  for (let attempt = 0;; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const server = start([
      ACTIVATE,
      "-l",
      `127.0.0.1:${port}`,
      "-l",
      sock,
      "--fdname=web:local",
      "-E",
      `NOTIFY_SOCKET=${notify}`,
      ...cliCommand().flat(),
      ...cliArgs,
    ]);
    const up = await waitFor(
      "systemd-socket-activate",
      () =>
        /Listening on .*wsgi\.sock as 4/.test(server.text()) ||
        server.process.exitCode !== null,
      10000,
    ).catch(() => false);
    if (up && server.process.exitCode === null) {
      return { listener, server, port, sock };
    }
    kill(server);
    if (attempt >= 3) {
      kill(listener);
      throw new Error(`systemd-socket-activate failed: ${server.text()}`);
    }
  }
}

test(
  "socket activation with --workers 2: fds 3 and 4 to every worker, READY, RELOADING, READY, STOPPING",
  {
    skip: SKIP,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgi-systemd-"));
    const notify = `@wsgi-test-${Math.random().toString(36).slice(2)}`;
    const { listener, server, port, sock } = await activated(
      ["--workers", "2", APP],
      notify,
      dir,
    );
    try {
      // The activator execs the CLI on this first connection: it waits in
      // the socket's queue until a worker accepts it.
      const first = await ask(port);
      assert.match(first, /^\d+$/);
      const ready = await waitFor(
        "READY=1",
        () => messages(listener).find((m) => m.includes("READY=1")),
      );
      // systemd-socket-activate execs: the CLI keeps its pid, which MAINPID
      // names.
      assert.ok(ready.includes(`MAINPID=${server.pid}`), String(ready));
      assert.match(
        server.text(),
        /socket activation: fd:\/\/3 \(web\), fd:\/\/4 \(local\)/,
      );
      const before = new Set(
        [...server.text().matchAll(/worker (\d+) listening/g)].map((m) => m[1]),
      );
      assert.ok(before.has(first), "a worker answered the first connection");
      assert.ok(before.has(await askUnix(sock)), "the unix socket is served");
      // sd_listen_fds(3) with unset_environment: the variables were for
      // the supervisor; the workers (and their children) do not see them.
      for (let i = 0; i < 4; i++) {
        assert.equal(await ask(port, "/listen-env"), "-");
      }
      proc.kill(server.pid, "SIGHUP");
      const reloaded = await waitFor("READY=1 after RELOADING=1", () => {
        const all = messages(listener);
        const at = all.findIndex((m) => m.includes("RELOADING=1"));
        return at !== -1 && all.slice(at + 1).find((m) => m.includes("READY=1"))
          ? all[at]
          : null;
      });
      const usec = reloaded.find((f) => f.startsWith("MONOTONIC_USEC="));
      assert.match(usec ?? "", /^MONOTONIC_USEC=\d+$/);
      await waitFor("the old workers gone", () => /exited/.test(server.text()));
      const after = await ask(port);
      assert.ok(!before.has(after), "a new worker answers after the reload");
      assert.match(await askUnix(sock), /^\d+$/);
      proc.kill(server.pid, "SIGTERM");
      assert.equal((await server.exited).code, 0);
      await waitFor(
        "STOPPING=1",
        () => messages(listener).some((m) => m.includes("STOPPING=1")),
        5000,
      );
    } finally {
      kill(server);
      kill(listener);
      for (const pid of server.text().matchAll(/worker (\d+) booting/g)) {
        try {
          proc.kill(Number(pid[1]), "SIGKILL");
        } catch { /* gone */ }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "socket activation without workers: one process serves both sockets; READY and STOPPING on a path socket",
  {
    skip: SKIP,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgi-systemd-"));
    const notify = join(dir, "notify.sock");
    const { listener, server, port, sock } = await activated(
      [APP],
      notify,
      dir,
    );
    try {
      const pid = await ask(port);
      assert.equal(pid, String(server.pid));
      // Consumed: the app's own environment no longer has them.
      assert.equal(await ask(port, "/listen-env"), "-");
      assert.equal(await askUnix(sock), pid);
      // Keep-alive on the inherited socket: two requests, one connection,
      // the second sent after the first is answered.
      const conn = await connect(port);
      try {
        for (let i = 0; i < 2; i++) {
          await conn.write(get("/"));
          assert.equal(text(await conn.readResponse()), pid);
          await sleep(50);
        }
      } finally {
        conn.destroy();
      }
      await waitFor(
        "READY=1",
        () => messages(listener).some((m) => m.includes("READY=1")),
      );
      proc.kill(server.pid, "SIGTERM");
      assert.equal((await server.exited).code, 0);
      await waitFor(
        "STOPPING=1",
        () => messages(listener).some((m) => m.includes("STOPPING=1")),
        5000,
      );
    } finally {
      kill(server);
      kill(listener);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("listenFds: only for this pid; names; a bad LISTEN_FDS is an error", () => {
  const env = (vars: Record<string, string>) => ({
    env: (name: string) => vars[name],
    pid: () => 42,
  });
  assert.equal(listenFds(env({ LISTEN_PID: "41", LISTEN_FDS: "1" })), null);
  assert.equal(listenFds(env({ LISTEN_FDS: "1" })), null);
  assert.deepEqual(
    listenFds(
      env({ LISTEN_PID: "42", LISTEN_FDS: "2", LISTEN_FDNAMES: "web" }),
    ),
    {
      binds: [{ host: "fd://3", port: 0 }, { host: "fd://4", port: 0 }],
      names: ["web", "unknown"],
    },
  );
  assert.throws(
    () => listenFds(env({ LISTEN_PID: "42", LISTEN_FDS: "x" })),
    /LISTEN_FDS .* "x"/,
  );
});

test(
  "docs/deploy.md's units (.socket and .service, and the plain Type=exec one) pass systemd-analyze verify",
  {
    skip: existsSync("/usr/bin/systemd-analyze")
      ? false
      : "needs systemd-analyze (Debian's systemd package)",
  },
  async () => {
    const doc = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
    const section = doc.slice(
      doc.indexOf("## systemd: socket activation"),
      doc.indexOf("## The PROXY protocol"),
    );
    const blocks = [...section.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) =>
      m[1]
    );
    assert.equal(blocks.length, 2);
    assert.match(blocks[0], /^ListenStream=/m);
    assert.match(blocks[1], /^Type=notify$/m);
    assert.match(blocks[1], /^NotifyAccess=all$/m);
    const dir = mkdtempSync(join(tmpdir(), "wsgi-units-"));
    try {
      writeFileSync(join(dir, "app.socket"), blocks[0]);
      // verify wants ExecStart's program to exist: this runtime stands in.
      writeFileSync(
        join(dir, "app.service"),
        blocks[1].replace(/^ExecStart=\S+/m, `ExecStart=${cliCommand()[0]}`),
      );
      const check = await run("/usr/bin/systemd-analyze", [
        "verify",
        "--man=no",
        join(dir, "app.socket"),
        join(dir, "app.service"),
      ], { cwd: ROOT, env: { ...proc.env, NO_COLOR: "1" } });
      const out = check.stdout + check.stderr;
      assert.equal(check.code, 0, out);
      assert.doesNotMatch(out, /unknown|invalid|ignoring/i);
      // The plain unit of "A systemd unit" (Type=exec), on its own.
      const plain = doc.slice(
        doc.indexOf("## A systemd unit"),
        doc.indexOf("## systemd: socket activation"),
      );
      const unit = /```ini\n([\s\S]*?)```/.exec(plain)![1];
      assert.match(unit, /^Type=exec$/m);
      mkdirSync(join(dir, "plain"));
      writeFileSync(
        join(dir, "plain", "app.service"),
        unit.replace(/^ExecStart=\S+/m, `ExecStart=${cliCommand()[0]}`),
      );
      const again = await run("/usr/bin/systemd-analyze", [
        "verify",
        "--man=no",
        join(dir, "plain", "app.service"),
      ], { cwd: ROOT, env: { ...proc.env, NO_COLOR: "1" } });
      const said = again.stdout + again.stderr;
      assert.equal(again.code, 0, said);
      assert.doesNotMatch(said, /unknown|invalid|ignoring/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "a restart loses no connection: the socket outlives the server, connections wait in its queue",
  {
    skip: existsSync(PYTHON)
      ? false
      : "needs /usr/bin/python3 (the socket holder)",
  },
  async () => {
    const holder = spawn(
      PYTHON,
      ["tests/fixtures/socket_holder.py", ...cliCommand().flat(), APP],
      { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] },
    );
    let out = "";
    holder.stdout!.setEncoding("utf8");
    holder.stderr!.setEncoding("utf8");
    holder.stdout!.on("data", (d: string) => void (out += d));
    holder.stderr!.on("data", (d: string) => void (out += d));
    const exited = new Promise((resolve) => holder.once("close", resolve));
    const servers = () => [...out.matchAll(/started (\d+)/g)].map((m) => m[1]);
    try {
      const port = Number(
        (await waitFor("the holder's port", () => /PORT (\d+)/.exec(out)))[1],
      );
      holder.stdin!.write("start\n");
      await waitFor("the first server", () => /Serving HTTP/.test(out));
      // Requests one after another on new connections, while the server is
      // stopped and started again: bounded in count and time.
      const seen = new Map<string, number>();
      let failed = 0;
      const errors: string[] = [];
      let restarted = false;
      const load = (async () => {
        const deadline = Date.now() + 30000;
        for (let i = 0; i < 5000 && Date.now() < deadline; i++) {
          try {
            const pid = await ask(port);
            seen.set(pid, (seen.get(pid) ?? 0) + 1);
          } catch (error) {
            failed += 1;
            errors.push(`${i}: ${(error as Error).message}`);
          }
          // Until the second server has answered a few.
          if (restarted && [...seen.values()][1] >= 20) break;
          await sleep(1);
        }
      })();
      await sleep(300);
      holder.stdin!.write("stop\n");
      await waitFor("the stop", () => /stopped 0/.test(out));
      // No server at all for a while: connections queue up.
      await sleep(300);
      holder.stdin!.write("start\n");
      restarted = true;
      await load;
      assert.equal(failed, 0, `failed requests: ${errors.join("; ")}`);
      const [first, second] = servers();
      assert.ok((seen.get(first) ?? 0) > 0, `the first server served: ${out}`);
      assert.ok((seen.get(second) ?? 0) > 0, "the second server served");
    } finally {
      holder.stdin!.end();
      await Promise.race([exited, sleep(10000)]);
      for (const pid of servers()) {
        try {
          proc.kill(Number(pid), "SIGKILL");
        } catch { /* gone */ }
      }
      if (holder.exitCode === null) proc.kill(holder.pid!, "SIGKILL");
    }
  },
);

/** This runtime running a script from the repo root. */
function scriptCommand(path: string): string[] {
  const [exe, args] = cliCommand();
  return [exe, ...args.slice(0, -1), join(ROOT, path)];
}

const CERTS = SKIP === false ? makeCerts() : null;

test(
  "fd://3 with TLS (an https socket from systemd): served over TLS, the client's address; a slow head or a silent client is cut off at headersTimeout",
  {
    skip: SKIP || (CERTS === null && "the openssl command is unavailable"),
  },
  async () => {
    const { ca, cert, key } = CERTS!;
    const dir = mkdtempSync(join(tmpdir(), "wsgi-fd-tls-"));
    writeFileSync(join(dir, "cert.pem"), cert);
    writeFileSync(join(dir, "key.pem"), key);
    let server: Child | null = null;
    let port = 0;
    try {
      for (let attempt = 0; server === null; attempt++) {
        port = 20000 + Math.floor(Math.random() * 40000);
        const s = start([
          ACTIVATE,
          "-l",
          `127.0.0.1:${port}`,
          "-E",
          `CERT_FILE=${join(dir, "cert.pem")}`,
          "-E",
          `KEY_FILE=${join(dir, "key.pem")}`,
          "-E",
          "HEADERS_TIMEOUT=700",
          ...scriptCommand("tests/fixtures/fd_tls_server.ts"),
        ]);
        const up = await waitFor(
          "systemd-socket-activate",
          () => /Listening on/.test(s.text()) || s.process.exitCode !== null,
          10000,
        ).catch(() => false);
        if (up && s.process.exitCode === null) server = s;
        else {
          kill(s);
          if (attempt >= 3) throw new Error(`activator: ${s.text()}`);
        }
      }
      const tls = () => connectTls({ port }, ca);
      // The first connection makes the activator start the server.
      const conn = await tls();
      try {
        for (const path of ["/a", "/b"]) {
          await conn.write(get(path));
          const response = await conn.readResponse({ timeoutMs: 20000 });
          assert.equal(response.status, 200);
          assert.equal(
            text(response),
            `127.0.0.1 ${conn.socket.localPort} https`,
          );
          await sleep(50);
        }
      } finally {
        conn.destroy();
      }
      assert.match(server.text(), /serving https:/);
      // A head sent a line at a time over TLS, then a silent client.
      const slow = await tls();
      try {
        const began = Date.now();
        await slow.write("GET / HTTP/1.1\r\nHost: a\r\n");
        let cut = false;
        for (let i = 0; i < 40 && !cut; i++) {
          cut = await Promise.race([
            slow.closed.then(() => true),
            sleep(100).then(() => false),
          ]);
          if (!cut) await slow.write(`X-${i}: a\r\n`).catch(() => {});
        }
        assert.ok(cut, "the slow head was never cut off");
        assert.ok(Date.now() - began < 3000, `cut after ${Date.now() - began}`);
      } finally {
        slow.destroy();
      }
      const silent = await connect(port);
      try {
        assert.equal(await silent.waitClosed(4000), true, "a silent client");
      } finally {
        silent.destroy();
      }
    } finally {
      if (server !== null) kill(server);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
