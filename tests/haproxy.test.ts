// docs/deploy.md's haproxy.cfg, as written (only its ports substituted),
// run by Debian's haproxy in front of the server on the current runtime:
// `send-proxy-v2` to `--proxy-protocol --workers 2` (REMOTE_ADDR and
// REMOTE_PORT are the client's own, not haproxy's), haproxy terminating
// TLS with `send-proxy-v2-ssl` (wsgi.url_scheme https from the header),
// and TLS passed through to `makeServer(..., { proxyProtocol, cert, key })`.
// haproxy runs in the foreground (-db) and is stopped by pid.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeServer } from "../mod.ts";
import { connect, connectTls, get, RawConnection, text } from "./_raw_http.ts";
import { type Child, run, startChild } from "./_child.ts";
import { cleanup, proc, ROOT, startCli } from "./_cli_proc.ts";
import { makeCerts, type TestCerts } from "./_certs.ts";
import { freePort } from "./_nginx.ts";
import { sleep } from "./_util.ts";
import { app } from "./fixtures/remote_app.ts";

const HAPROXY = "/usr/sbin/haproxy";
const CERTS: TestCerts | null = existsSync(HAPROXY) ? makeCerts() : null;
const SKIP = !existsSync(HAPROXY)
  ? "needs haproxy (Debian's haproxy; .ci/run installs it)"
  : CERTS === null
  ? "the openssl command is unavailable"
  : false;

/** The ```haproxy block of docs/deploy.md, as written. */
function deployConfig(): string {
  const page = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
  const m = /```haproxy\n([\s\S]*?)```/.exec(page);
  if (!m) throw new Error("docs/deploy.md has no haproxy block");
  return m[1];
}

/**
 * Runs `config` (the block with its ports substituted, then `edit`) and
 * resolves once haproxy accepts on `port`.
 */
async function startHaproxy(
  config: string,
  port: number,
  dir: string,
): Promise<Child> {
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, config);
  const check = await run(HAPROXY, ["-c", "-f", file], { cwd: dir });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const haproxy = startChild(HAPROXY, ["-db", "-f", file], {
    cwd: dir,
    env: { ...proc.env },
    timeout: 120_000,
  });
  for (let i = 0; i < 200; i++) {
    const conn = await connect(port).catch(() => null);
    if (conn !== null) {
      conn.destroy();
      return haproxy;
    }
    if (haproxy.process.exitCode !== null) break;
    await sleep(25);
  }
  await haproxy.stop();
  throw new Error(`haproxy did not listen: ${haproxy.text()}`);
}

/** The block, listening on 127.0.0.1:`front`, in front of `backend`. */
function configFor(backend: number, front: number): string {
  const block = deployConfig();
  assert.match(block, /^\s+bind :80$/m);
  assert.match(block, /server app1 127\.0\.0\.1:8000 send-proxy-v2$/m);
  return block.replace(/bind :80$/m, `bind 127.0.0.1:${front}`)
    .replace("127.0.0.1:8000", `127.0.0.1:${backend}`);
}

/** Two requests on `conn`; each answer `REMOTE_ADDR REMOTE_PORT scheme`. */
async function twice(conn: RawConnection): Promise<string[]> {
  const out: string[] = [];
  try {
    for (const path of ["/1", "/2"]) {
      await conn.write(get(path));
      const response = await conn.readResponse({ timeoutMs: 10000 });
      assert.equal(response.status, 200, text(response));
      out.push(text(response));
      await sleep(20);
    }
  } finally {
    conn.destroy();
  }
  return out;
}

test(
  "docs/deploy.md's haproxy.cfg: send-proxy-v2 to --proxy-protocol --workers 2; then send-proxy-v2-ssl with TLS at haproxy",
  {
    skip: SKIP,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgi-haproxy-"));
    const cli = startCli([
      "--workers",
      "2",
      "--port",
      "0",
      "--proxy-protocol",
      "tests/fixtures/remote_app.ts:app",
    ]);
    let haproxy: Child | null = null;
    try {
      const backend = Number((await cli.wait(/port (\d+) \(http/, 30000))[1]);
      const front = await freePort();
      const tlsFront = await freePort();
      const { cert, key } = CERTS!;
      writeFileSync(join(dir, "site.pem"), cert + key);
      // The block as written, plus the TLS variant the page describes.
      const config = configFor(backend, front) + `
frontend web_tls
    bind 127.0.0.1:${tlsFront} ssl crt ${join(dir, "site.pem")}
    default_backend app_tls

backend app_tls
    server app1 127.0.0.1:${backend} send-proxy-v2-ssl
`;
      haproxy = await startHaproxy(config, front, dir);
      // Several connections, so that both workers answer some.
      for (let i = 0; i < 4; i++) {
        const conn = await connect(front);
        const port = conn.socket.localPort;
        assert.deepEqual(await twice(conn), [
          `127.0.0.1 ${port} http`,
          `127.0.0.1 ${port} http`,
        ]);
      }
      const conn = await connectTls({ port: tlsFront }, CERTS!.ca);
      const port = conn.socket.localPort;
      assert.deepEqual(await twice(conn), [
        `127.0.0.1 ${port} https`,
        `127.0.0.1 ${port} https`,
      ]);
    } finally {
      await haproxy?.stop();
      await cleanup(cli);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "haproxy in TCP mode in front of TLS in the app: send-proxy-v2, then the client's own handshake with makeServer({ proxyProtocol, cert, key })",
  {
    skip: SKIP,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgi-haproxy-"));
    const { cert, key } = CERTS!;
    const server = makeServer("127.0.0.1", 0, app, {
      log: false,
      proxyProtocol: "v2",
      cert,
      key,
    });
    let haproxy: Child | null = null;
    try {
      await server.ready;
      const front = await freePort();
      haproxy = await startHaproxy(
        configFor(server.serverPort, front),
        front,
        dir,
      );
      for (let i = 0; i < 3; i++) {
        const conn = await connectTls({ port: front }, CERTS!.ca);
        const port = conn.socket.localPort;
        assert.deepEqual(await twice(conn), [
          `127.0.0.1 ${port} https`,
          `127.0.0.1 ${port} https`,
        ]);
      }
    } finally {
      await haproxy?.stop();
      await server.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
